// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The Source: a libpcap handle on a live interface or a capture file. Every
// frame is classified and counted as it arrives; nothing is kept. I/O only:
// the judgement is in evaluate.hpp.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "classify.hpp"
#include "sitelink/timeout.hpp"
#include "tally.hpp"

namespace sitelink::traffic {

struct CaptureStats {
  std::optional<double> window;         // seconds covered
  std::optional<double> end_time;       // epoch seconds the window ended
  std::optional<std::uint64_t> dropped; // by the kernel or the interface
  std::string link;                     // link type name, for -v
  std::vector<std::string> notes;       // for -v
  // Set when the source ran out of time: what it was doing (the counts are
  // then partial and not judged).
  std::optional<std::string> timed_out_while;
};

// libpcap's DLT_* value to the classifier's link type.
std::optional<LinkType> link_type_of(int dlt) noexcept;

// Captures on `iface` for `duration` seconds (never past deadline.io_end()),
// with `filter` compiled into the kernel. Capabilities are dropped as soon as
// the handle is active.
tl::expected<CaptureStats, std::string> capture_live(const std::string& iface, const std::string& filter,
                                                     double duration, const ClassifyConfig& config, Tally& tally,
                                                     const Deadline& deadline);

// Reads a capture file (pcap or pcapng) to the end, or until
// deadline.io_end() (then timed_out_while is set). A damaged file is an
// error naming the packet and byte offset where it broke.
// `drop_privileges` is false only in unit tests, which share one process.
tl::expected<CaptureStats, std::string> read_capture_file(const std::string& path, const ClassifyConfig& config,
                                                          Tally& tally, const Deadline& deadline,
                                                          bool drop_privileges = true);

// The addresses of this network namespace's interfaces.
std::vector<Address> local_addresses();

} // namespace sitelink::traffic
