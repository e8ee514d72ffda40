// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Linux capabilities for the plugins that open a privileged socket (raw ICMP,
// packet capture): raise the one capability the socket needs, open it, then
// drop every capability for the rest of the run.
//
// Plain capget/capset system calls: linking libcap only for these three
// calls cost every run a shared library load (measured: about 1 ms of
// start-up on a virtual machine where page faults are slow).

#include <string>

#include <tl/expected.hpp>

namespace sitelink {

// Puts `cap` (a CAP_* number) into the effective set when the permitted set
// holds it (a file capability such as cap_net_raw+p); otherwise does nothing.
void raise_capability(int cap) noexcept;

// Clears the effective, permitted, inheritable and ambient sets, forbids
// regaining privileges through exec (no_new_privs) and checks that nothing is
// left. The error names what failed.
tl::expected<void, std::string> drop_capabilities();

// True when the effective, permitted and inheritable sets are all empty.
bool capabilities_clear() noexcept;

// The CapEff and CapPrm lines of /proc/self/status as one line, for -vvv.
std::string capability_status();

} // namespace sitelink
