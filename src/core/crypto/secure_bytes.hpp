/*-------------------------------------------------------------------------
 *
 * secure_bytes.hpp
 *		A move-only byte buffer for key material that wipes itself.
 *
 *		Every key pg_retention holds (the server key, the keys derived from
 *		it, the per-subject data keys) lives in a SecureBytes.  The buffer is
 *		allocated once at its final size and never grows, so no stale copy is
 *		left behind by a reallocation; it is wiped with OPENSSL_cleanse() when
 *		destroyed, cleared or overwritten by a move.  Copies are explicit
 *		(Clone()) so that duplicating a key is visible in the code.
 *
 * IDENTIFICATION
 *		src/core/crypto/secure_bytes.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include <openssl/crypto.h>

#include "base/cpp_only.hpp"

namespace pg_retention
{

class SecureBytes
{
public:
	SecureBytes() noexcept = default;

	/* A zero-filled buffer of `size` bytes, to be written through data(). */
	explicit SecureBytes(size_t size)
	    : data_(size ? new unsigned char[size]() : nullptr), size_(size)
	{
	}

	/* A copy of `size` bytes at `bytes` (e.g. a test vector or a decoded key). */
	SecureBytes(const void *bytes, size_t size) : SecureBytes(size)
	{
		if (size)
			std::memcpy(data_.get(), bytes, size);
	}

	SecureBytes(SecureBytes &&other) noexcept
	    : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0))
	{
	}

	/* The key being replaced is wiped before the new one takes its place. */
	SecureBytes &operator=(SecureBytes &&other) noexcept
	{
		if (this != &other) {
			Clear();
			data_ = std::move(other.data_);
			size_ = std::exchange(other.size_, 0);
		}
		return *this;
	}

	SecureBytes(const SecureBytes &) = delete;
	SecureBytes &operator=(const SecureBytes &) = delete;

	~SecureBytes() { Clear(); }

	/* An explicit copy: the only way to duplicate key material. */
	SecureBytes Clone() const { return SecureBytes(data_.get(), size_); }

	/* Wipes and releases the buffer; the object is then empty. */
	void Clear() noexcept
	{
		if (data_)
			OPENSSL_cleanse(data_.get(), size_);
		data_.reset();
		size_ = 0;
	}

	unsigned char *data() noexcept { return data_.get(); }
	const unsigned char *data() const noexcept { return data_.get(); }
	size_t size() const noexcept { return size_; }
	bool empty() const noexcept { return size_ == 0; }

	/* A view for APIs that take bytes as text; it must not outlive *this. */
	std::string_view view() const noexcept
	{
		return {reinterpret_cast<const char *>(data_.get()), size_};
	}

	/*
	 * Constant-time comparison, for tests and for checking a reloaded key
	 * against the one in use without a timing side channel.
	 */
	bool Equals(const SecureBytes &other) const noexcept
	{
		return size_ == other.size_ &&
		       (size_ == 0 || CRYPTO_memcmp(data_.get(), other.data_.get(), size_) == 0);
	}

private:
	std::unique_ptr<unsigned char[]> data_;
	size_t size_ = 0;
};

} // namespace pg_retention
