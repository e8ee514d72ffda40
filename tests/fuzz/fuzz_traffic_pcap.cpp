// SPDX-License-Identifier: GPL-2.0-or-later
// check_tunnel_traffic --file: a whole capture file (pcap or pcapng) read by
// libpcap and fed through our link-type mapping, classifier and tally.
// libpcap itself is not instrumented here; the point is what our code does
// with whatever libpcap hands over (odd link types, caplen > len, ...).
// Input: the capture file.
#include <sys/mman.h>
#include <unistd.h>

#include "check_tunnel_traffic/source_capture.hpp"
#include "fuzz_support.hpp"
#include "sitelink/timeout.hpp"

using namespace sitelink;
using namespace sitelink::traffic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  int fd = ::memfd_create("fuzz.pcap", MFD_CLOEXEC);
  if (fd < 0) fuzz::fail("memfd_create");
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) fuzz::fail("write to memfd");
    done += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  auto peer = Address::parse("192.0.2.2");
  Tally tally({*peer}, {});
  ClassifyConfig cfg;
  const Deadline deadline(60);
  auto r = read_capture_file(path, cfg, tally, deadline, false);
  if (r) {
    std::uint64_t parts =
        tally.not_ip + tally.undecodable + tally.fragments + tally.unrelated + tally.not_tunnel + tally.over_limit;
    if (parts > tally.frames) fuzz::fail("more frames in the categories than frames read");
  } else if (r.error().empty()) {
    fuzz::fail("capture error without a message");
  }
  ::close(fd);
  return 0;
}
