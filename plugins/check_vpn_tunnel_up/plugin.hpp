// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

namespace sitelink::vpn {
// The whole check: hands argv to the runtime with this plugin's options,
// make_config and run (plugin.cpp).
int main(int argc, const char* const* argv);
} // namespace sitelink::vpn
