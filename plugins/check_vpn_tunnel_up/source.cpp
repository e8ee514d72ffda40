// SPDX-License-Identifier: GPL-2.0-or-later
// What every backend shares: endpoints, connecting, and turning a failed
// exchange into an Observation.
#include <cerrno>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "source.hpp"

namespace sitelink::vpn {

namespace {

std::string owner_hint(const std::string& daemon, const std::string& path)
{
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return fmt::format("the plugin's user needs search permission on the directories above {} and read/write "
                       "access to the socket (run the check as the user {} serves, or as root)",
                       path, daemon);
  std::string user = std::to_string(st.st_uid);
  std::string grp = std::to_string(st.st_gid);
  if (const passwd* pw = ::getpwuid(st.st_uid)) user = pw->pw_name;
  if (const struct group* gr = ::getgrgid(st.st_gid)) grp = gr->gr_name;
  const auto mode = static_cast<unsigned>(st.st_mode & 0777);
  if ((mode & 0060) == 0060 && st.st_gid != 0)
    return fmt::format("{} is owned by {}:{} mode {:04o}: run the check as a member of group '{}' (or as root)", path,
                       user, grp, mode, grp);
  return fmt::format("{} is owned by {}:{} mode {:04o}, which only {} may use: run the check as root (for "
                     "example through sudo with a rule for this plugin), or configure {} to give the socket a "
                     "monitoring group with read/write access",
                     path, user, grp, mode, st.st_uid == 0 ? "root" : user, daemon);
}

} // namespace

Observation failure(const std::string& daemon, const std::string& endpoint, const net::IoError& e)
{
  Observation o;
  o.daemon = daemon;
  o.endpoint = endpoint;
  switch (e.kind) {
  case net::ErrorKind::NotFound:
    o.status = Observation::Status::DaemonDown;
    o.error = e.err != 0 ? "no socket at " + endpoint : e.message;
    break;
  case net::ErrorKind::Refused:
    o.status = Observation::Status::DaemonDown;
    o.error = "connection refused at " + endpoint;
    break;
  case net::ErrorKind::Permission:
    o.status = Observation::Status::NoPermission;
    o.error = "permission denied";
    if (!endpoint.empty() && endpoint.front() == '/') o.hint = owner_hint(daemon, endpoint);
    break;
  case net::ErrorKind::Timeout:
    o.status = Observation::Status::Failed;
    o.timed_out = true;
    o.error = "no complete answer within the time limit";
    o.activity = watchdog::activity();
    break;
  case net::ErrorKind::Closed:
    o.status = Observation::Status::Failed;
    o.error = "the daemon closed the connection before its reply was complete";
    break;
  default:
    o.status = Observation::Status::Failed;
    o.error = e.message;
    break;
  }
  return o;
}

tl::expected<Endpoint, std::string> parse_endpoint(std::string_view text, bool allow_bare_host_port)
{
  Endpoint ep;
  auto hostport = [&](std::string_view hp) -> tl::expected<Endpoint, std::string> {
    auto colon = hp.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == hp.size())
      return tl::unexpected("'" + std::string(text) + "' is not HOST:PORT");
    std::string host(hp.substr(0, colon));
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    std::string port(hp.substr(colon + 1));
    for (char c : port)
      if (c < '0' || c > '9') return tl::unexpected("bad port in '" + std::string(text) + "'");
    ep.unix_socket = false;
    ep.host = host;
    ep.port = port;
    return ep;
  };
  if (text.rfind("unix://", 0) == 0) text.remove_prefix(7);
  else if (text.rfind("tcp://", 0) == 0) return hostport(text.substr(6));
  if (text.empty()) return tl::unexpected(std::string("empty socket path"));
  if (text.front() == '/' || text.front() == '.') {
    ep.path = std::string(text);
    return ep;
  }
  if (allow_bare_host_port) return hostport(text);
  return tl::unexpected("'" + std::string(text) + "' is neither unix://PATH, an absolute path nor tcp://HOST:PORT");
}

tl::expected<net::Socket, net::IoError> connect(const Endpoint& ep, const Deadline& deadline)
{
  if (ep.unix_socket) return net::Socket::connect_unix(ep.path, deadline.io_end());
  return net::Socket::connect_tcp(ep.host, ep.port, deadline.io_end());
}

} // namespace sitelink::vpn
