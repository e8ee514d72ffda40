// SPDX-License-Identifier: GPL-2.0-or-later
// The WireGuard Source: "get=1" on the UAPI socket (wireguard-go). The reply
// carries the interface's private key and any preshared keys, so the buffer
// is wiped after parse_wireguard.cpp has read it.
#include "source_wireguard.hpp"

#include <cstring>
#include <sys/stat.h>

namespace sitelink::vpn::wireguard {

namespace {

constexpr std::size_t max_reply = 1024 * 1024;

} // namespace

Observation query(net::Stream& s, const std::string& endpoint, double now,
                  const std::map<std::string, std::string>& aliases, const Trace& trace)
{
  const std::string daemon = "wireguard-go";
  Activity act("reading peers from the WireGuard UAPI socket " + endpoint);
  if (auto w = s.write_all("get=1\n\n"); !w) return failure(daemon, endpoint, w.error());
  std::string buf;
  Observation o;
  for (;;) {
    if (buf.size() >= 2 && buf.compare(buf.size() - 2, 2, "\n\n") == 0) break;
    if (buf.size() > max_reply) {
      o = failure(daemon, endpoint, net::IoError{net::ErrorKind::TooLarge, 0, "UAPI reply larger than 1 MiB"});
      break;
    }
    char chunk[4096];
    auto n = s.read_some(chunk, sizeof chunk);
    if (!n) {
      o = failure(daemon, endpoint, n.error());
      break;
    }
    buf.append(chunk, *n);
    explicit_bzero(chunk, sizeof chunk);
  }
  if (o.error.empty()) {
    auto r = observe(buf, now, aliases, trace);
    if (r) {
      o = std::move(*r);
      o.endpoint = endpoint;
    } else {
      o = failure(daemon, endpoint, net::IoError{net::ErrorKind::Protocol, 0, r.error()});
    }
  }
  explicit_bzero(buf.data(), buf.size());
  return o;
}

Observation read(const std::string& socket_path, const std::string& interface, double now,
                 const std::map<std::string, std::string>& aliases, const Deadline& deadline, const Trace& trace)
{
  Activity act("connecting to the WireGuard UAPI socket " + socket_path);
  auto sock = net::Socket::connect_unix(socket_path, deadline.io_end());
  if (!sock) {
    Observation o = failure("wireguard-go", socket_path, sock.error());
    struct stat st {};
    const std::string sys = "/sys/class/net/" + interface;
    if (o.status == Observation::Status::DaemonDown && ::stat(sys.c_str(), &st) == 0) {
      // The interface exists without a UAPI socket: a kernel WireGuard
      // interface, which is read over netlink, not supported here yet.
      o.status = Observation::Status::Failed;
      o.error = "interface " + interface + " exists but has no UAPI socket (kernel WireGuard is not supported yet)";
    }
    return o;
  }
  return query(*sock, socket_path, now, aliases, trace);
}

} // namespace sitelink::vpn::wireguard
