// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend gcp, the I/O half: credentials as Google's Application Default
// Credentials find them (GOOGLE_APPLICATION_CREDENTIALS, then gcloud's
// application_default_credentials.json, then the metadata server), the
// OAuth 2.0 token request (a service-account key signs an RS256 JWT, an
// authorized user sends its refresh token), and the vpnTunnels list.
//
// Endpoints: the token URI comes from the credentials file; the metadata
// server is GCE_METADATA_HOST (Google's variable; default
// metadata.google.internal); Compute Engine is
// CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE (gcloud's; default
// https://compute.googleapis.com/compute/v1/).

#include <string>

#include <tl/expected.hpp>

#include "cloud_api.hpp"
#include "host.hpp"
#include "parse_gcp.hpp"
#include "sitelink/http.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::vpn::cloud::gcp {

struct Credentials {
  std::optional<KeyFile> key; // absent: the metadata server
  std::string source;         // for messages
};
tl::expected<Credentials, std::string> resolve_credentials(const Environment& env, const FileSystem& fs);

// The Compute Engine base URL, ending in '/'.
std::string compute_endpoint(const Environment& env);

Reply run(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http, const Deadline& deadline,
          double now);

} // namespace sitelink::vpn::cloud::gcp
