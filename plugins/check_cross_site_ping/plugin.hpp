// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

namespace sitelink::ping {
int main(int argc, const char* const* argv);
} // namespace sitelink::ping
