// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

namespace sitelink::replication {
int main(int argc, const char* const* argv);
} // namespace sitelink::replication
