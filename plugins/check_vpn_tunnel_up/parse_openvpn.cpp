// SPDX-License-Identifier: GPL-2.0-or-later
// OpenVPN through its management interface: "state" for a point-to-point
// instance, "status 2" (CLIENT_LIST, ROUTING_TABLE) for a server.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "backends.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::vpn::openvpn {

namespace {

constexpr std::string_view password_prompt = "ENTER PASSWORD:";
constexpr std::size_t max_reply_lines = 20000;

std::vector<std::string> split_csv(std::string_view line)
{
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto comma = line.find(',', start);
    out.emplace_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<double> num(const std::string& s)
{
  auto n = parse_number(s);
  if (!n || *n < 0) return std::nullopt;
  return *n;
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
      return tl::unexpected(net::IoError{net::ErrorKind::TooLarge, 0, "more than 20000 reply lines to '" + command + "'"});
    lines.push_back(std::move(*line));
  }
}

} // namespace

tl::expected<StateLine, std::string> parse_state(const std::vector<std::string>& lines)
{
  for (const auto& line : lines) {
    auto f = split_csv(line);
    if (f.size() < 3) continue;
    auto t = num(f[0]);
    if (!t) continue;
    StateLine s;
    s.time = *t;
    s.state = f[1];
    s.description = f[2];
    if (f.size() > 4) s.remote = f[4];
    if (f.size() > 5) s.remote_port = f[5];
    return s;
  }
  return tl::unexpected(std::string("the reply to 'state' has no state line"));
}

tl::expected<Status, std::string> parse_status(const std::vector<std::string>& lines)
{
  Status st;
  std::map<std::string, std::vector<std::string>> headers;
  bool known = false;
  for (const auto& line : lines) {
    auto f = split_csv(line);
    if (f.empty()) continue;
    if (f[0] == "OpenVPN STATISTICS" || f[0] == "TITLE") known = true;
    if (f[0] == "HEADER" && f.size() > 2) {
      headers[f[1]] = std::vector<std::string>(f.begin() + 2, f.end());
      if (f[1] == "CLIENT_LIST") st.server = true;
      continue;
    }
    if (f[0] == "TIME" && f.size() > 2) {
      st.time = num(f[2]);
      continue;
    }
    auto col = [&](const char* table, const char* name) -> std::optional<std::size_t> {
      auto h = headers.find(table);
      if (h == headers.end()) return std::nullopt;
      for (std::size_t i = 0; i < h->second.size(); ++i)
        if (h->second[i] == name && i + 1 < f.size()) return i + 1;
      return std::nullopt;
    };
    if (f[0] == "CLIENT_LIST") {
      Client c;
      auto cn = col("CLIENT_LIST", "Common Name");
      if (!cn) return tl::unexpected(std::string("CLIENT_LIST line before its HEADER"));
      c.common_name = f[*cn];
      if (auto i = col("CLIENT_LIST", "Real Address")) c.real_address = f[*i];
      if (auto i = col("CLIENT_LIST", "Bytes Received")) c.bytes_in = num(f[*i]);
      if (auto i = col("CLIENT_LIST", "Bytes Sent")) c.bytes_out = num(f[*i]);
      if (auto i = col("CLIENT_LIST", "Connected Since (time_t)")) c.connected_since = num(f[*i]);
      st.clients.push_back(std::move(c));
    } else if (f[0] == "ROUTING_TABLE") {
      auto cn = col("ROUTING_TABLE", "Common Name");
      auto ref = col("ROUTING_TABLE", "Last Ref (time_t)");
      if (!cn || !ref) continue;
      auto t = num(f[*ref]);
      for (auto& c : st.clients)
        if (c.common_name == f[*cn] && t && (!c.last_ref || *t > *c.last_ref)) c.last_ref = t;
    } else if (f.size() == 2 && !st.server) {
      if (auto v = num(f[1])) st.counters[f[0]] = *v;
    }
  }
  if (!known) return tl::unexpected(std::string("the reply to 'status 2' is not an OpenVPN status"));
  return st;
}

Observation observe(const StateLine& state, const Status& status, const std::string& p2p_name, double now)
{
  Observation o;
  o.status = Observation::Status::Read;
  o.daemon = "OpenVPN";
  auto age = [&](double then) { return std::max(0.0, now - then); };
  if (status.server) {
    const double server_now = status.time.value_or(now);
    for (const auto& c : status.clients) {
      Tunnel t;
      t.name = c.common_name;
      t.state = TunnelState::Up;
      if (c.connected_since) t.since = std::max(0.0, server_now - *c.connected_since);
      if (c.last_ref) t.last_inbound = std::max(0.0, server_now - *c.last_ref);
      t.bytes_in = c.bytes_in;
      t.bytes_out = c.bytes_out;
      t.detail = "client from " + sanitize_quote(c.real_address, 60);
      o.tunnels.push_back(std::move(t));
    }
    if (state.state != "CONNECTED") o.error = "server state " + state.state;
    return o;
  }
  Tunnel t;
  t.name = p2p_name;
  t.since = age(state.time);
  std::string desc = sanitize_quote(state.state, 30);
  if (!state.description.empty()) desc += ", " + sanitize_quote(state.description, 40);
  if (state.state == "CONNECTED") {
    t.state = TunnelState::Up;
    t.detail = "CONNECTED to " + sanitize_quote(state.remote, 60) +
               (state.remote_port.empty() ? "" : ":" + sanitize_quote(state.remote_port, 8));
  } else if (state.state == "EXITING") {
    t.state = TunnelState::Down;
    t.detail = desc;
  } else {
    // RECONNECTING, WAIT, AUTH, GET_CONFIG, ASSIGN_IP, ADD_ROUTES, RESOLVE,
    // TCP_CONNECT, CONNECTING: working on it, no traffic meanwhile.
    t.state = TunnelState::Connecting;
    t.detail = desc;
  }
  auto counter = [&](const char* key) -> std::optional<double> {
    auto it = status.counters.find(key);
    return it == status.counters.end() ? std::nullopt : std::optional<double>(it->second);
  };
  // Payload through the tunnel: what the TUN device wrote (received from the
  // peer) and read (sent to the peer).
  t.bytes_in = counter("TUN/TAP write bytes");
  t.bytes_out = counter("TUN/TAP read bytes");
  o.configured.push_back(p2p_name);
  o.tunnels.push_back(std::move(t));
  return o;
}

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
      if (auto f = lr.fill(); !f) return fail(f.error());
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
                 double now, net::TimePoint deadline, const Trace& trace)
{
  Activity act("connecting to the OpenVPN management interface at " + ep.text());
  auto sock = connect(ep, deadline);
  if (!sock) return failure("OpenVPN", ep.text(), sock.error());
  return query(*sock, ep.text(), password, p2p_name, now, trace);
}

} // namespace sitelink::vpn::openvpn
