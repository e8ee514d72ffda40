// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend openstack, the I/O half: credentials, Keystone, Neutron, over
// the Environment, FileSystem and HttpClient interfaces (fakes in unit
// tests). parse_openstack.hpp reads the replies.

#include <string>

#include <tl/expected.hpp>

#include "cloud_api.hpp"
#include "host.hpp"
#include "parse_openstack.hpp"
#include "sitelink/http.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::vpn::cloud::openstack {

// --os-cloud, then OS_CLOUD (clouds.yaml), else the OS_* variables; the
// region is --os-region, else OS_REGION_NAME, else the cloud's region_name.
tl::expected<Auth, std::string> resolve_auth(const Environment& env, const FileSystem& fs, const std::string& cli_cloud,
                                             const std::string& cli_region = {});

Reply run(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http, const Deadline& deadline);

} // namespace sitelink::vpn::cloud::openstack
