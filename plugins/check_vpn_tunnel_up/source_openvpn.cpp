// SPDX-License-Identifier: GPL-2.0-or-later
// The OpenVPN Source: the management session (greeting or password prompt,
// "state", "status 2", "quit") and the password file; parse_openvpn.cpp
// turns the replies into tunnels.
#include "source_openvpn.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sitelink/output.hpp"

namespace sitelink::vpn::openvpn {

namespace {

constexpr std::string_view password_prompt = "ENTER PASSWORD:";
constexpr std::size_t max_reply_lines = 20000;
// OpenVPN accepts one management client at a time; the others wait in the
// socket's backlog without a greeting (tests/integration/test_drills_lab.py).
constexpr std::string_view busy_hint =
    "OpenVPN's management interface serves one client at a time: another client (an open management session, "
    "or another check still running) may have held it for the whole time limit";

// A timeout before the greeting is most often a busy interface: say so.
Observation busy_or(Observation o)
{
  if (o.timed_out) o.hint = std::string(busy_hint);
  return o;
}

net::IoError protocol(std::string m)
{
  return net::IoError{net::ErrorKind::Protocol, 0, std::move(m)};
}

// Lines up to END; real-time notifications (">...") are skipped.
tl::expected<std::vector<std::string>, net::IoError> read_until_end(net::LineReader& lr, const std::string& command,
                                                                    const Trace& trace)
{
  std::vector<std::string> lines;
  for (;;) {
    auto line = lr.next();
    if (!line) return tl::unexpected(line.error());
    if (trace) trace(3, "openvpn < " + sanitize_quote(*line, 200));
    if (!line->empty() && line->front() == '>') continue;
    if (*line == "END") return lines;
    if (line->rfind("ERROR:", 0) == 0)
      return tl::unexpected(protocol("'" + command + "' was refused: " + sanitize_quote(*line, 120)));
    if (lines.size() >= max_reply_lines)
      return tl::unexpected(
          net::IoError{net::ErrorKind::TooLarge, 0, "more than 20000 reply lines to '" + command + "'"});
    lines.push_back(std::move(*line));
  }
}

} // namespace

tl::expected<std::string, std::string> read_password_file(const std::string& path)
{
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return tl::unexpected(fmt::format("cannot open password file {}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return tl::unexpected(fmt::format("password file {} is not a regular file", path));
  }
  // Group read is allowed (root:nagios 0640 is the usual way to share it);
  // anything for others, or group write, is not.
  if ((st.st_mode & 0027) != 0) {
    ::close(fd);
    return tl::unexpected(fmt::format("password file {} has mode {:04o}; it must not be accessible to others or "
                                      "writable by its group (chmod 0600 or 0640)",
                                      path, static_cast<unsigned>(st.st_mode & 07777)));
  }
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf);
  int err = errno;
  ::close(fd);
  if (n < 0) return tl::unexpected(fmt::format("cannot read password file {}: {}", path, std::strerror(err)));
  std::string content(buf, static_cast<std::size_t>(n));
  explicit_bzero(buf, sizeof buf);
  auto nl = content.find_first_of("\r\n");
  std::string pw = content.substr(0, nl);
  explicit_bzero(content.data(), content.size());
  if (pw.empty()) return tl::unexpected(fmt::format("password file {} is empty", path));
  return pw;
}

Observation query(net::Stream& s, const std::string& endpoint, const std::optional<std::string>& password,
                  const std::string& p2p_name, double now, const Trace& trace)
{
  const std::string daemon = "OpenVPN";
  net::LineReader lr(s);
  auto fail = [&](const net::IoError& e) { return failure(daemon, endpoint, e); };
  {
    Activity act("waiting for the OpenVPN management greeting at " + endpoint);
    bool greeted = false;
    while (!greeted) {
      const std::string& p = lr.pending();
      if (p.rfind(password_prompt, 0) == 0) {
        lr.consume(password_prompt.size());
        if (trace) trace(3, "openvpn < ENTER PASSWORD:");
        if (!password) {
          Observation o = fail(protocol("the management interface asks for a password"));
          o.hint = "give the password in a file with --management-password-file";
          return o;
        }
        if (trace) trace(3, "openvpn > (password)");
        if (auto w = s.write_all(*password + "\n"); !w) return fail(w.error());
        auto reply = lr.next();
        if (!reply) return fail(reply.error());
        if (reply->rfind("SUCCESS:", 0) != 0)
          return fail(protocol("the management password was refused (" + sanitize_quote(*reply, 60) + ")"));
        continue;
      }
      if (p.find('\n') != std::string::npos) {
        auto line = lr.next();
        if (!line) return fail(line.error());
        if (trace) trace(3, "openvpn < " + sanitize_quote(*line, 200));
        if (line->rfind(">INFO:", 0) == 0) greeted = true;
        else if (line->empty() || line->front() != '>')
          return fail(protocol("not an OpenVPN management interface (greeting '" + sanitize_quote(*line, 40) + "')"));
        continue;
      }
      if (p.size() > 4096) return fail(protocol("not an OpenVPN management interface (no greeting line)"));
      if (auto f = lr.fill(); !f) return busy_or(fail(f.error()));
    }
  }
  std::vector<std::string> state_lines, status_lines;
  {
    Activity act("asking OpenVPN for its state at " + endpoint);
    if (trace) trace(3, "openvpn > state");
    if (auto w = s.write_all("state\n"); !w) return fail(w.error());
    auto r = read_until_end(lr, "state", trace);
    if (!r) return fail(r.error());
    state_lines = std::move(*r);
  }
  {
    Activity act("asking OpenVPN for its status at " + endpoint);
    if (trace) trace(3, "openvpn > status 2");
    if (auto w = s.write_all("status 2\n"); !w) return fail(w.error());
    auto r = read_until_end(lr, "status 2", trace);
    if (!r) return fail(r.error());
    status_lines = std::move(*r);
  }
  // Leave politely; the answer does not matter.
  (void)s.write_all("quit\n");
  auto state = parse_state(state_lines);
  if (!state) return fail(protocol(state.error()));
  auto status = parse_status(status_lines);
  if (!status) return fail(protocol(status.error()));
  Observation o = observe(*state, *status, p2p_name, now);
  o.endpoint = endpoint;
  return o;
}

Observation read(const Endpoint& ep, const std::optional<std::string>& password, const std::string& p2p_name,
                 double now, const Deadline& deadline, const Trace& trace)
{
  Activity act("connecting to the OpenVPN management interface at " + ep.text());
  auto sock = connect(ep, deadline);
  if (!sock) return busy_or(failure("OpenVPN", ep.text(), sock.error()));
  return query(*sock, ep.text(), password, p2p_name, now, trace);
}

} // namespace sitelink::vpn::openvpn
