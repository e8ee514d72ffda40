// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend azure, the I/O half: the credential chain of the Azure SDKs'
// DefaultAzureCredential (environment: client secret, then client
// certificate; workload identity; managed identity at IMDS), the Microsoft
// Entra ID token request, and the Azure Resource Manager reads.
// parse_azure.hpp reads the replies.
//
// Endpoints (the environment overrides them, for sovereign clouds and for
// the local test server):
//   AZURE_AUTHORITY_HOST               login authority (the SDKs' variable;
//                                      default https://login.microsoftonline.com)
//   AZURE_RESOURCE_MANAGER_ENDPOINT    ARM (default https://management.azure.com)
//   AZURE_RESOURCE_MANAGER_AUDIENCE    token audience (default
//                                      https://management.azure.com)
//   AZURE_POD_IDENTITY_AUTHORITY_HOST  IMDS (the SDKs' variable; default
//                                      http://169.254.169.254)

#include <string>

#include <tl/expected.hpp>

#include "cloud_api.hpp"
#include "host.hpp"
#include "parse_azure.hpp"
#include "sitelink/http.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::vpn::cloud::azure {

struct Endpoints {
  std::string authority, management, audience, imds;
};
Endpoints endpoints(const Environment& env);

struct Credential {
  enum class Kind { Secret, Certificate, Workload, ManagedIdentity };
  Kind kind = Kind::ManagedIdentity;
  std::string tenant, client_id;
  std::string secret;      // Secret: the client secret; Workload: the federated token
  std::string certificate; // Certificate: PEM with the certificate and its private key
  std::string source;      // for messages: "client secret from AZURE_CLIENT_SECRET"
};

// The first credential the environment selects, files read (and their
// permissions checked) but nothing sent.
tl::expected<Credential, std::string> resolve_credential(const Environment& env, const FileSystem& fs);

// The form body of the v2.0 token request for a secret, certificate or
// workload credential (the certificate's client assertion is signed here).
tl::expected<std::string, std::string> token_form(const Credential& c, const Endpoints& ep, double now);

Reply run(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http, const Deadline& deadline,
          double now);

} // namespace sitelink::vpn::cloud::azure
