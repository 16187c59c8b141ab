# pg_retention: PGXS build of the extension.
#
#   make                 build the shared library and the install script
#   make install         install into the PostgreSQL found by PG_CONFIG
#   make installcheck    pg_regress + isolation + TAP against temporary servers
#                        (each test starts its own; run as a non-root OS user)
#   make dist            pg_retention-<version>.tar.gz: git archive of HEAD
#                        (DIST_DIR=... to write it elsewhere)
#
# CMakeLists.txt builds the same src/core sources into the unit tests, fuzzers
# and micro-benchmarks; both take their source list from the source folders.

EXTENSION   = pg_retention
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big  = pg_retention

# Sources are picked up by folder (one level of capability folders below
# src/core and src/pg): a new file needs no edit here.
CORE_SRCS   = $(sort $(wildcard src/core/*.cpp src/core/*/*.cpp))
PG_SRCS     = $(sort $(wildcard src/pg/*.cpp src/pg/*/*.cpp))
HEADERS     = $(wildcard src/core/*.hpp src/core/*/*.hpp src/pg/*.hpp src/pg/*/*.hpp)
OBJS        = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# Released versions are frozen: versions/ holds their install scripts and the
# upgrade scripts between them, installed as they are (docs/versions.md).  The
# development version's install script is assembled from src/sql/*.sql in name
# order; the upgrade script to it is written by hand beside the frozen ones.
SQL_PARTS   = $(sort $(wildcard src/sql/*.sql))
DATA        = $(sort $(wildcard versions/$(EXTENSION)--*.sql))
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql

# Every sql/*.sql is a regression test, run in name order on one temporary
# instance with the library preloaded (test/regress.conf).
REGRESS      := $(basename $(notdir $(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --temp-config=test/regress.conf --temp-instance=tmp_check \
               --load-extension=pg_retention

ISOLATION     := $(basename $(notdir $(sort $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --temp-config=test/regress.conf \
                 --temp-instance=tmp_check_iso --load-extension=pg_retention

TAP_TESTS    = 1
PROVE_TESTS  := $(sort $(wildcard test/t/*.pl))
PROVE_FLAGS  = -I test/perl

EXTRA_CLEAN  = test/regress.conf results output_iso tmp_check tmp_check_iso \
               regression.diffs regression.out

PG_CONFIG ?= pg_config
# The library knows the schema version it reads and writes (schema_version.cpp).
PG_CPPFLAGS = -Isrc/core -Isrc/pg -DPGR_EXTVERSION=\"$(EXTVERSION)\"
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-register
SHLIB_LINK  = -lstdc++ -lssl -lcrypto

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Debian's PGXS also compiles C++ to LLVM bitcode with clang, which defaults to
# C++14: give it our flags too.
COMPILE.cxx.bc += $(PG_CPPFLAGS) -std=c++17 -Wno-ignored-attributes -Wno-register

ifeq ($(ERROR_ON_WARNING),1)
PG_CXXFLAGS += -Werror
endif

$(DATA_built): $(SQL_PARTS) $(EXTENSION).control
	cat $(SQL_PARTS) > $@

# The regression instance preloads the library and reads the throwaway test key.
test/regress.conf: test/regress.conf.in
	sed 's|@TESTKEY@|$(CURDIR)/test/keys/test.key|' $< > $@

installcheck: test/regress.conf

# The source tarball (PGXN, packagers): the committed tree at HEAD under
# pg_retention-<version>/, <version> being META.json's (the first "version"
# in it is the distribution's); .gitattributes leaves out CI-only files.
DISTVERSION = $(shell sed -n '0,/"version"/s/.*"version": *"\([^"]*\)".*/\1/p' META.json)
DIST_DIR   ?= .
.PHONY: dist
dist:
	@test -n "$(DISTVERSION)" || { echo 'no "version" in META.json' >&2; exit 1; }
	@git diff --quiet HEAD -- || echo 'make dist: uncommitted changes are not in the tarball (HEAD is)' >&2
	git archive --format=tar.gz --prefix=$(EXTENSION)-$(DISTVERSION)/ \
		-o $(DIST_DIR)/$(EXTENSION)-$(DISTVERSION).tar.gz HEAD

.PHONY: format
format:
	clang-format -i $(CORE_SRCS) $(PG_SRCS) $(HEADERS) $(wildcard test/unit/*.cpp test/fuzz/*.cpp bench/micro/*.cpp)

# PGXS tracks no header dependencies: any header change rebuilds every object
# (a struct that changed size under a stale object corrupts memory at run time).
$(OBJS): $(HEADERS) $(EXTENSION).control
