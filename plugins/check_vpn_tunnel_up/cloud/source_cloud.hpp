// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend aws, aws-route and openstack from the plugin's side: loads the
// sitelink_cloud module (libcurl, pugixml, yaml-cpp stay out of the plugin's
// start-up) through the common loader and runs the request in it.

#include <string>

#include <tl/expected.hpp>

#include "cloud_api.hpp"

namespace sitelink::vpn::cloud {

// The module's Reply, or why the module could not be loaded. The request's
// deadline is the check's; its steps are reported to the watchdog and, when
// time ran out, in Reply::activity.
tl::expected<Reply, std::string> ask_module(Request request);

} // namespace sitelink::vpn::cloud
