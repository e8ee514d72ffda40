// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend vcd, the I/O half: credentials, version negotiation, login,
// the edge and its IPsec state, logout, over the Environment, FileSystem
// and HttpClient interfaces (fakes in unit tests). parse_vcd.hpp reads the
// replies.

#include <string>

#include <tl/expected.hpp>

#include "cloud_api.hpp"
#include "host.hpp"
#include "parse_vcd.hpp"
#include "sitelink/http.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::vpn::cloud::vcd {

// --credentials-file if given, else the Terraform vcd provider's variables:
// VCD_URL, VCD_ORG, VCD_SYS_ORG, VCD_USER, VCD_PASSWORD, VCD_API_TOKEN,
// VCD_API_TOKEN_FILE. Files are refused when others may read them.
tl::expected<Auth, std::string> resolve_auth(const Environment& env, const FileSystem& fs,
                                             const std::string& credentials_file);

Reply run(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http, const Deadline& deadline);

} // namespace sitelink::vpn::cloud::vcd
