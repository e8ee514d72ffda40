// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Signed JSON Web Tokens (RFC 7519, RS256 of RFC 7518 section 3.3) for the
// two token requests that prove a key instead of sending a secret: Google's
// service-account grant (RFC 7523) and Microsoft Entra ID's certificate
// client assertion. OpenSSL does the RSA signing; nothing here does I/O.

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace sitelink::vpn::cloud::jwt {

// RFC 4648 section 5, without padding.
std::string base64url(std::string_view bytes);

// base64url(header) "." base64url(claims) "." base64url(RS256 signature),
// header and claims being JSON texts. The error names what was wrong with
// the key, never its content.
tl::expected<std::string, std::string> sign_rs256(std::string_view header_json, std::string_view claims_json,
                                                  std::string_view pem_private_key);

// The base64url SHA-1 thumbprint of the first certificate in a PEM text
// (the "x5t" header Entra ID uses to find the registered certificate).
tl::expected<std::string, std::string> x5t(std::string_view pem);

// 16 random bytes as hex, for "jti".
std::string random_id();

} // namespace sitelink::vpn::cloud::jwt
