// SPDX-License-Identifier: GPL-2.0-or-later
#include "source_capture.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ifaddrs.h>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <string_view>

#include <fmt/format.h>
#include <pcap/pcap.h>

#include "sitelink/output.hpp"
#include "sitelink/privilege.hpp"

namespace sitelink::traffic {

namespace {

struct PcapCloser {
  void operator()(pcap_t* p) const noexcept { pcap_close(p); }
};
using Pcap = std::unique_ptr<pcap_t, PcapCloser>;

struct Feed {
  ClassifyConfig config;
  LinkType link;
  Tally* tally;
};

double seconds_of(const struct timeval& tv)
{
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

void on_packet(u_char* user, const struct pcap_pkthdr* h, const u_char* bytes)
{
  auto* f = reinterpret_cast<Feed*>(user);
  f->tally->add(classify(bytes, h->caplen, f->link, f->config), seconds_of(h->ts));
}

std::string link_name(int dlt)
{
  const char* n = pcap_datalink_val_to_name(dlt);
  return n != nullptr ? fmt::format("{} ({})", n, dlt) : fmt::format("{}", dlt);
}

} // namespace

std::optional<LinkType> link_type_of(int dlt) noexcept
{
  switch (dlt) {
  case DLT_EN10MB: return LinkType::Ethernet;
  case DLT_LINUX_SLL: return LinkType::LinuxSll;
#ifdef DLT_LINUX_SLL2
  case DLT_LINUX_SLL2: return LinkType::LinuxSll2;
#endif
  case DLT_RAW: return LinkType::Raw;
#ifdef DLT_IPV4
  case DLT_IPV4: return LinkType::Ipv4;
#endif
#ifdef DLT_IPV6
  case DLT_IPV6: return LinkType::Ipv6;
#endif
  case DLT_NULL: return LinkType::Null;
#ifdef DLT_LOOP
  case DLT_LOOP: return LinkType::Loop;
#endif
  default: return std::nullopt;
  }
}

std::vector<Address> local_addresses()
{
  std::vector<Address> out;
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (auto* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    Address a;
    if (i->ifa_addr->sa_family == AF_INET) {
      a.family = 4;
      const auto* sin = reinterpret_cast<const struct sockaddr_in*>(static_cast<const void*>(i->ifa_addr));
      std::memcpy(a.bytes.data(), &sin->sin_addr, 4);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      a.family = 6;
      const auto* sin6 = reinterpret_cast<const struct sockaddr_in6*>(static_cast<const void*>(i->ifa_addr));
      std::memcpy(a.bytes.data(), &sin6->sin6_addr, 16);
    } else {
      continue;
    }
    out.push_back(a);
  }
  freeifaddrs(list);
  return out;
}

namespace {

// pcap_activate's failure in words.
std::string activate_error(int rc, const std::string& name, const std::string& why)
{
  switch (rc) {
  case PCAP_ERROR_PERM_DENIED:
    return fmt::format("no permission to capture on {}: needs CAP_NET_RAW (run as root or "
                       "give the plugin file capability cap_net_raw+ep)",
                       name);
  case PCAP_ERROR_NO_SUCH_DEVICE: return fmt::format("no interface {}: {}", name, why);
  case PCAP_ERROR_IFACE_NOT_UP: return fmt::format("interface {} is down", name);
  default: return fmt::format("cannot capture on {}: {}", name, why);
  }
}

// An active, filtered, non-blocking handle on `iface` with a link type we
// decode (in `link`); capabilities dropped.
tl::expected<Pcap, std::string> open_live(const std::string& iface, const std::string& name, const std::string& filter,
                                          CaptureStats& st, LinkType& link)
{
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  Pcap p(pcap_create(iface.c_str(), errbuf));
  if (!p) return tl::make_unexpected(fmt::format("cannot capture on {}: {}", name, sanitize(errbuf)));
  // Headers are all the classifier reads; byte counts come from IP lengths.
  pcap_set_snaplen(p.get(), 256);
  pcap_set_promisc(p.get(), 0);
  // Blocks of packets are handed over at least every 50 ms, so the end of
  // the capture window is not late by more than that.
  pcap_set_timeout(p.get(), 50);
  pcap_set_buffer_size(p.get(), 4 << 20);
  const int rc = pcap_activate(p.get());
  // Whatever happened, no capability is needed from here on.
  auto dropped = sitelink::drop_capabilities();
  if (rc < 0) return tl::make_unexpected(activate_error(rc, name, sanitize(pcap_geterr(p.get()))));
  if (rc > 0) st.notes.push_back(fmt::format("pcap_activate warning: {}", sanitize(pcap_geterr(p.get()))));
  if (!dropped) return tl::make_unexpected(dropped.error());
  const int dlt = pcap_datalink(p.get());
  st.link = link_name(dlt);
  const auto decoded = link_type_of(dlt);
  if (!decoded)
    return tl::make_unexpected(fmt::format("interface {} has link type {}, which is not decoded", name, st.link));
  link = *decoded;
  struct bpf_program prog {};
  if (pcap_compile(p.get(), &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    return tl::make_unexpected(fmt::format("BPF filter '{}' does not compile: {}", filter, pcap_geterr(p.get())));
  const int set = pcap_setfilter(p.get(), &prog);
  pcap_freecode(&prog);
  if (set != 0) return tl::make_unexpected(fmt::format("cannot set the BPF filter: {}", pcap_geterr(p.get())));
  if (pcap_setnonblock(p.get(), 1, errbuf) != 0)
    return tl::make_unexpected(fmt::format("cannot make the capture non-blocking: {}", sanitize(errbuf)));
  return p;
}

} // namespace

tl::expected<CaptureStats, std::string> capture_live(const std::string& iface, const std::string& filter,
                                                     double duration, const ClassifyConfig& config, Tally& tally,
                                                     const Deadline& deadline)
{
  CaptureStats st;
  const std::string name = sanitize(iface);
  Activity act("opening a capture on " + name);
  LinkType link = LinkType::Raw;
  auto p = open_live(iface, name, filter, st, link);
  if (!p) return tl::make_unexpected(p.error());
  const int fd = pcap_get_selectable_fd(p->get());
  if (fd < 0) return tl::make_unexpected("the capture handle has no pollable descriptor");

  Feed feed{config, link, &tally};
  Activity cap("capturing on " + name);
  using clock = Deadline::clock;
  const auto start = clock::now();
  const auto end = std::min(
      start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(duration)), deadline.io_end());
  for (auto now = start; now < end; now = clock::now()) {
    // Rounded up, so the poll does not wake just before the end.
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(end - now).count();
    struct pollfd pfd {
      fd, POLLIN, 0
    };
    if (poll(&pfd, 1, static_cast<int>(wait)) < 0 && errno != EINTR)
      return tl::make_unexpected(fmt::format("poll on the capture failed: {}", std::strerror(errno)));
    if (pcap_dispatch(p->get(), -1, on_packet, reinterpret_cast<u_char*>(&feed)) == PCAP_ERROR)
      return tl::make_unexpected(fmt::format("capture on {} failed: {}", name, sanitize(pcap_geterr(p->get()))));
  }
  // Blocks handed over while the last poll returned.
  pcap_dispatch(p->get(), -1, on_packet, reinterpret_cast<u_char*>(&feed));
  st.window = std::chrono::duration<double>(clock::now() - start).count();
  // Packet timestamps are wall-clock time.
  st.end_time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  struct pcap_stat ps {};
  if (pcap_stats(p->get(), &ps) == 0) st.dropped = static_cast<std::uint64_t>(ps.ps_drop) + ps.ps_ifdrop;
  return st;
}

tl::expected<CaptureStats, std::string> read_capture_file(const std::string& path, const ClassifyConfig& config,
                                                          Tally& tally, const Deadline& deadline, bool drop_privileges)
{
  CaptureStats st;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  const std::string name = sanitize(path);
  Activity act("opening capture file " + name);
  Pcap p(pcap_open_offline(path.c_str(), errbuf));
  // Nothing from here on needs a privilege, and file contents are untrusted.
  auto dropped = drop_privileges ? sitelink::drop_capabilities() : tl::expected<void, std::string>{};
  if (!p) {
    // libpcap puts the path in front of some messages; it is in ours already.
    std::string_view why(errbuf);
    if (why.rfind(path + ": ", 0) == 0) why.remove_prefix(path.size() + 2);
    return tl::make_unexpected(fmt::format("cannot read capture file {}: {}", name, sanitize(why)));
  }
  if (!dropped) return tl::make_unexpected(dropped.error());
  const int dlt = pcap_datalink(p.get());
  st.link = link_name(dlt);
  const auto link = link_type_of(dlt);
  if (!link)
    return tl::make_unexpected(fmt::format("capture file {} has link type {}, which is not decoded", name, st.link));
  const std::string reading = "reading capture file " + name;
  Activity rd(reading);
  const auto end = deadline.io_end();
  FILE* fp = pcap_file(p.get());
  std::optional<double> first;
  double last = 0;
  std::uint64_t n = 0;
  for (;;) {
    // The clock is read once per block of packets: a huge file stops in time.
    if (n % 1024 == 0 && Deadline::clock::now() >= end) {
      st.timed_out_while = reading;
      return st;
    }
    const long offset = fp != nullptr ? std::ftell(fp) : -1;
    struct pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(p.get(), &h, &data);
    if (rc == PCAP_ERROR_BREAK) break; // end of file
    if (rc != 1) {
      const std::string where =
          offset >= 0 ? fmt::format("packet {} (byte offset {})", n + 1, offset) : fmt::format("packet {}", n + 1);
      return tl::make_unexpected(
          fmt::format("capture file {} is damaged at {}: {}", name, where, sanitize(pcap_geterr(p.get()))));
    }
    ++n;
    const double ts = seconds_of(h->ts);
    if (!first) first = ts;
    last = ts;
    tally.add(classify(data, h->caplen, *link, config), ts);
  }
  if (first && last > *first) st.window = last - *first;
  if (first) st.end_time = last;
  st.notes.push_back(fmt::format("{} packets in the file", n));
  return st;
}

} // namespace sitelink::traffic
