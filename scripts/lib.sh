# Shared by scripts/test, scripts/demo and bench/run: installs what is
# missing on a Debian 12 machine and runs commands as the right user.
# shellcheck shell=bash

PG_MAJOR=15
# PG_BIN chooses the PostgreSQL to build and test against (Debian's by default;
# scripts/build-pg builds assert-enabled 15 and 18 elsewhere).
PG_BIN=${PG_BIN:-/usr/lib/postgresql/$PG_MAJOR/bin}
export PG_CONFIG=$PG_BIN/pg_config
export PATH="$PG_BIN:$PATH"

# Everything the build, the tests, the demo and the benchmarks need.
PACKAGES=(
	g++ make cmake pkg-config
	postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-contrib
	libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
	clang libclang-rt-14-dev clang-format
	libipc-run-perl
	# scripts/build-pg: building PostgreSQL 15 and 18 from Debian's source
	# packages (bookworm's bison 3.8, flex 2.6 and ICU 72 suit both)
	dpkg-dev bison flex libreadline-dev zlib1g-dev libicu-dev
	# scripts/test-package: the Debian package (pg_buildext) and META.json
	debhelper postgresql-server-dev-all jq
)
# Where scripts/build-pg builds the assert-enabled PostgreSQL of a major
# (outside the clone).
built_pg_prefix() { echo "/var/cache/pg_retention/pg$1-cassert"; }

log() { printf '\n== %s\n' "$*"; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
	# Debian creates and starts a default cluster on port 5432; ours are throwaway ones.
	if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
		:
	fi
}

# PostgreSQL refuses to run as root: tests and the demo run as this user.
test_user() {
	if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

as_test_user() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Objects built for another PostgreSQL (PG_BIN changed since the last build
# here) are removed first: an extension built for Debian's server is never
# loaded by the assert-enabled one, nor the reverse.
clean_if_other_server() {
	if [ -f .built-for ] && [ "$(cat .built-for)" != "$PG_CONFIG" ]; then
		log "objects were built for $(cat .built-for): make clean"
		make -s clean PG_CONFIG="$(cat .built-for)"
	fi
	echo "$PG_CONFIG" >.built-for
}

# Builds and installs the extension into the PostgreSQL of PG_BIN.
build_and_install() {
	clean_if_other_server
	log "building the extension"
	make -s -j2 ERROR_ON_WARNING=1 PG_CONFIG="$PG_CONFIG"
	log "installing the extension"
	as_root make -s install PG_CONFIG="$PG_CONFIG"
}

# A copy of the tree the test user owns (pg_regress writes results next to the tests).
test_tree() {
	local src=$1 dst=$2
	if [ "$(id -u)" -eq 0 ]; then
		rm -rf "$dst"
		mkdir -p "$dst"
		(cd "$src" && tar --exclude=./build --exclude=./.git -cf - .) | (cd "$dst" && tar -xf -)
		chown -R postgres: "$dst"
		echo "$dst"
	else
		echo "$src"
	fi
}
