// SPDX-License-Identifier: GPL-2.0-or-later
// RS256 JSON Web Tokens with OpenSSL's EVP interface (see jwt.hpp).
#include "jwt.hpp"

#include <memory>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

namespace sitelink::vpn::cloud::jwt {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

std::unique_ptr<BIO, BioFree> memory_bio(std::string_view text)
{
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

} // namespace

std::string base64url(std::string_view bytes)
{
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&bytes](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
  }
  if (i + 1 == bytes.size()) {
    unsigned v = byte(i) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
  }
  return out;
}

tl::expected<std::string, std::string> sign_rs256(std::string_view header_json, std::string_view claims_json,
                                                  std::string_view pem_private_key)
{
  if (pem_private_key.size() > 64 * 1024) return tl::unexpected<std::string>("the private key is larger than 64 KiB");
  auto bio = memory_bio(pem_private_key);
  if (!bio) return tl::unexpected<std::string>("out of memory reading the private key");
  // No passphrase callback: an encrypted key is refused, not prompted for.
  std::unique_ptr<EVP_PKEY, KeyFree> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>("")));
  if (!key) return tl::unexpected<std::string>("no unencrypted PEM private key found");
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) return tl::unexpected<std::string>("the private key is not RSA");
  const std::string input = base64url(header_json) + "." + base64url(claims_json);
  std::unique_ptr<EVP_MD_CTX, MdFree> ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return tl::unexpected<std::string>("RSA signing failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return tl::unexpected<std::string>("RSA signing failed");
  sig.resize(len);
  return input + "." + base64url(sig);
}

tl::expected<std::string, std::string> x5t(std::string_view pem)
{
  auto bio = memory_bio(pem);
  if (!bio) return tl::unexpected<std::string>("out of memory reading the certificate");
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return tl::unexpected<std::string>("no PEM certificate found");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert.get(), EVP_sha1(), md, &n) != 1)
    return tl::unexpected<std::string>("cannot hash the certificate");
  return base64url(std::string_view(reinterpret_cast<const char*>(md), n));
}

std::string random_id()
{
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) return "sitelink";
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

} // namespace sitelink::vpn::cloud::jwt
