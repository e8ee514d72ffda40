// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

namespace sitelink::traffic {
int main(int argc, const char* const* argv);
} // namespace sitelink::traffic
