// SPDX-License-Identifier: GPL-2.0-or-later
// Classification throughput: the frames of a capture file are loaded into
// memory first, so the timed loop is classify() + Tally::add() alone, as the
// plugin runs them per packet. Prints packets per second (median and best of N passes).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <pcap/pcap.h>

#include "classify.hpp"
#include "source_capture.hpp"
#include "tally.hpp"

using namespace sitelink::traffic;

int main(int argc, char** argv)
{
  if (argc < 2) {
    std::fprintf(stderr, "usage: traffic_bench FILE [PASSES]\n");
    return 2;
  }
  const int passes = argc > 2 ? std::atoi(argv[2]) : 5;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(argv[1], errbuf);
  if (p == nullptr) {
    std::fprintf(stderr, "%s\n", errbuf);
    return 1;
  }
  const auto link = link_type_of(pcap_datalink(p));
  if (!link) return 1;
  std::vector<std::uint8_t> data;
  std::vector<std::pair<std::size_t, std::size_t>> frames; // offset, caplen
  struct pcap_pkthdr* h = nullptr;
  const u_char* d = nullptr;
  while (pcap_next_ex(p, &h, &d) == 1) {
    frames.emplace_back(data.size(), h->caplen);
    data.insert(data.end(), d, d + h->caplen);
  }
  pcap_close(p);
  std::vector<double> rates;
  std::uint64_t checksum = 0;
  for (int i = 0; i < passes; ++i) {
    Tally tally({}, {*Address::parse("192.0.2.1"), *Address::parse("2001:db8::1")});
    const ClassifyConfig cfg;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& [off, len] : frames) tally.add(classify(data.data() + off, len, *link, cfg));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(frames.size()) / s);
    checksum += tally.frames + tally.peers().size();
  }
  std::sort(rates.begin(), rates.end());
  if (rates.empty()) return 1;
  std::printf("%zu frames, median of %d passes: %.0f packets/s, best %.0f packets/s (check %llu)\n", frames.size(),
              passes, rates[rates.size() / 2], rates.back(), static_cast<unsigned long long>(checksum));
  return 0;
}
