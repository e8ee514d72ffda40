// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <vector>

#include "classify.hpp"

namespace sitelink::traffic {

// The BPF expression for the selected protocols and peers, so the kernel
// hands over only packets the classifier could count.
std::string bpf_filter(const ClassifyConfig& config, const std::vector<Address>& peers);

} // namespace sitelink::traffic
