// SPDX-License-Identifier: GPL-2.0-or-later
#include "evaluate.hpp"

#include <cmath>

#include <fmt/format.h>

#include "sitelink/labels.hpp"
#include "sitelink/number.hpp"
#include "sitelink/perfdata.hpp"

namespace sitelink::traffic {

namespace {

std::string seconds(double s)
{
  // Short windows (a file of a few packets) keep two decimals.
  return s < 10 ? format_number(std::round(s * 100) / 100) : format_number(std::round(s * 10) / 10);
}

std::optional<double> rate(std::uint64_t count, const std::optional<double>& window)
{
  if (count == 0) return 0.0;
  if (!window || *window <= 0) return std::nullopt;
  return std::round(static_cast<double>(count) / *window * 100) / 100;
}

std::string rate_text(std::uint64_t count, const std::optional<double>& window)
{
  auto r = rate(count, window);
  if (!r) return fmt::format("{} packets", count);
  return format_number(std::round(*r * 10) / 10) + " pkt/s";
}

std::string in_window(const std::optional<double>& window)
{
  return window ? " in " + seconds(*window) + " s" : "";
}

std::string breakdown(const DirectionCounters& d)
{
  std::string s;
  auto add = [&](std::string part) {
    if (!s.empty()) s += ", ";
    s += part;
  };
  for (Proto p : {Proto::Esp, Proto::Ike, Proto::WireGuard, Proto::OpenVpn, Proto::NatKeepalive, Proto::Other}) {
    const auto n = d.count(p);
    if (n == 0) continue;
    if (p == Proto::Ike) add(fmt::format("IKE {} ({} requests, {} responses)", n, d.ike_requests, d.ike_responses));
    else if (p == Proto::Other) add(fmt::format("{} not recognised", n));
    else add(fmt::format("{} {}", to_string(p), n));
  }
  return s.empty() ? "nothing" : s;
}

std::optional<double> answer_by(const Observation& obs, const Policy& policy)
{
  if (!obs.end_time) return std::nullopt;
  return *obs.end_time - policy.answer_grace;
}

SubResult judge_peer(const PeerTally& t, const Observation& obs, const Policy& policy)
{
  SubResult r;
  const std::string peer = t.peer.to_string();
  const auto out = t.out.tunnel_packets();
  const auto in = t.in.tunnel_packets();
  const std::string w = in_window(obs.window);
  const Judgement j = judge(t, answer_by(obs, policy));
  const std::string kind = j.kind ? std::string(to_string(*j.kind)) + " " : std::string();
  const auto kout = j.kind ? kind_packets(t.out, *j.kind) : 0;
  const auto kin = j.kind ? kind_packets(t.in, *j.kind) : 0;
  switch (j.verdict) {
  case Verdict::Flowing: {
    std::vector<std::string> names;
    for (Kind k : j.active) names.emplace_back(to_string(k));
    r.state = State::Ok;
    r.text = fmt::format("{} {} flowing: {} out, {} in", peer, fmt::join(names, "+"), rate_text(out, obs.window),
                         rate_text(in, obs.window));
    break;
  }
  case Verdict::OneWayOut:
    r.state = State::Critical;
    r.text = fmt::format("{} {}one-way out: {} packets sent, none received{}", peer, kind, kout, w);
    break;
  case Verdict::OneWayIn:
    r.state = State::Warning;
    r.text = fmt::format("{} {}one-way in: {} packets received, none sent{}", peer, kind, kin, w);
    break;
  case Verdict::IkeUnanswered:
    r.state = State::Critical;
    r.text = fmt::format("{} IKE unanswered: {} requests sent, no response{}", peer, t.out.ike_requests, w);
    break;
  case Verdict::Idle:
    r.state = policy.idle_state;
    if (out > 0 && in == 0)
      r.text = fmt::format("{} idle: {} packets sent in the last {} s only, too late for an answer{}", peer, out,
                           format_number(policy.answer_grace), w);
    else r.text = fmt::format("{} idle: no tunnel packets{}", peer, w);
    break;
  }
  // Stable labels: the same eight per peer in every state.
  const std::string prefix = address_label(peer); // 192_0_2_2_out_pps
  auto pd = [&](const char* what, std::optional<double> v) {
    Perfdatum p;
    p.label = prefix + "_" + what;
    p.value = v;
    p.min = 0.0;
    r.perfdata.push_back(p);
  };
  pd("out_pps", rate(out, obs.window));
  pd("in_pps", rate(in, obs.window));
  pd("out_Bps", rate(t.out.tunnel_bytes(), obs.window));
  pd("in_Bps", rate(t.in.tunnel_bytes(), obs.window));
  pd("ike_requests_out", static_cast<double>(t.out.ike_requests));
  pd("ike_responses_in", static_cast<double>(t.in.ike_responses));
  pd("ike_requests_in", static_cast<double>(t.in.ike_requests));
  pd("ike_responses_out", static_cast<double>(t.out.ike_responses));
  return r;
}

std::vector<std::string> hints(Verdict v)
{
  switch (v) {
  case Verdict::IkeUnanswered:
    return {"Check: firewalls on the path allow UDP 500 and 4500 in both directions",
            "Check: IKE and IPsec proposals and policies (traffic selectors) match on both sides",
            "Check: both sides use the same pre-shared key and identities"};
  case Verdict::OneWayOut:
    return {"Check: the peer receives our packets but nothing comes back: a firewall dropping the return "
            "traffic, or a peer that stopped decrypting"};
  case Verdict::OneWayIn:
    return {"Check: packets arrive but none are sent: is the local tunnel daemon running, does a local "
            "firewall drop its packets?"};
  default: return {};
  }
}

} // namespace

std::string_view to_string(Verdict v) noexcept
{
  switch (v) {
  case Verdict::Flowing: return "flowing";
  case Verdict::OneWayOut: return "one-way out";
  case Verdict::OneWayIn: return "one-way in";
  case Verdict::IkeUnanswered: return "ike-unanswered";
  case Verdict::Idle: return "idle";
  }
  return "?";
}

std::string_view to_string(Kind k) noexcept
{
  switch (k) {
  case Kind::Ipsec: return "IPsec";
  case Kind::OpenVpn: return "OpenVPN";
  case Kind::WireGuard: return "WireGuard";
  }
  return "?";
}

std::uint64_t kind_packets(const DirectionCounters& d, Kind k) noexcept
{
  switch (k) {
  case Kind::Ipsec: return d.count(Proto::Ike) + d.count(Proto::Esp);
  case Kind::OpenVpn: return d.count(Proto::OpenVpn);
  case Kind::WireGuard: return d.count(Proto::WireGuard);
  }
  return 0;
}

namespace {
// The earliest outgoing packet of the family (0: none).
double first_out(const DirectionCounters& d, Kind k) noexcept
{
  auto at = [&](Proto p) { return d.first_seen[static_cast<std::size_t>(p)]; };
  double first = 0;
  auto take = [&](double v) {
    if (v != 0 && (first == 0 || v < first)) first = v;
  };
  switch (k) {
  case Kind::Ipsec:
    take(at(Proto::Ike));
    take(at(Proto::Esp));
    break;
  case Kind::OpenVpn: take(at(Proto::OpenVpn)); break;
  case Kind::WireGuard: take(at(Proto::WireGuard)); break;
  }
  return first;
}
} // namespace

Verdict judge(const PeerTally& t, Kind k, std::optional<double> answer_by) noexcept
{
  const auto out = kind_packets(t.out, k);
  const auto in = kind_packets(t.in, k);
  if (out == 0 && in == 0) return Verdict::Idle;
  // Everything we sent left too late for an answer inside the window: no
  // finding either way (a sparse keepalive at the end of the window).
  if (in == 0 && answer_by && first_out(t.out, k) > *answer_by) return Verdict::Idle;
  // IKE requests of ours that nobody answers, and no ESP either way: the
  // tunnel cannot come up. (With ESP still going out, the SA exists and the
  // problem is the return path: one-way out.)
  if (k == Kind::Ipsec && t.out.ike_requests > 0 && t.in.ike_responses == 0 && t.out.count(Proto::Esp) == 0 &&
      t.in.count(Proto::Esp) == 0)
    return Verdict::IkeUnanswered;
  if (in == 0) return Verdict::OneWayOut;
  if (out == 0) return Verdict::OneWayIn;
  return Verdict::Flowing;
}

Judgement judge(const PeerTally& t, std::optional<double> answer_by)
{
  auto rank = [](Verdict v) {
    switch (v) {
    case Verdict::IkeUnanswered:
    case Verdict::OneWayOut: return 3;
    case Verdict::OneWayIn: return 2;
    case Verdict::Flowing: return 1;
    case Verdict::Idle: return 0;
    }
    return 0;
  };
  Judgement j;
  for (Kind k : all_kinds) {
    const Verdict v = judge(t, k, answer_by);
    if (v == Verdict::Idle) continue;
    j.active.push_back(k);
    if (rank(v) > rank(j.verdict)) {
      j.verdict = v;
      j.kind = k;
    }
  }
  return j;
}

Result evaluate(const Observation& obs, const Policy& policy)
{
  std::vector<SubResult> parts;
  std::vector<std::string> extra;
  for (const auto& t : obs.tally.peers()) {
    parts.push_back(judge_peer(t, obs, policy));
    extra.push_back(fmt::format("{} out: {}", t.peer.to_string(), breakdown(t.out)));
    extra.push_back(fmt::format("{} in: {}", t.peer.to_string(), breakdown(t.in)));
  }
  if (parts.empty()) {
    SubResult idle;
    idle.state = policy.idle_state;
    idle.text = fmt::format("no tunnel traffic {}{}", obs.where, in_window(obs.window));
    parts.push_back(idle);
  }
  Result r = aggregate(parts);
  r.details.insert(r.details.end(), extra.begin(), extra.end());
  const auto& y = obs.tally;
  r.details.push_back(fmt::format("{} frames {}{}: {} not IP, {} not tunnel traffic, {} undecodable, "
                                  "{} fragments, {} not to or from a peer",
                                  y.frames, obs.where, in_window(obs.window), y.not_ip, y.not_tunnel, y.undecodable,
                                  y.fragments, y.unrelated));
  if (y.over_limit > 0)
    r.details.push_back(fmt::format("{} packets from more than {} peers were not counted: name the peers with --peer",
                                    y.over_limit, Tally::max_discovered));
  if (obs.dropped && *obs.dropped > 0)
    r.details.push_back(fmt::format("the kernel dropped {} packets: rates are lower bounds", *obs.dropped));
  // The first checklist of the worst peer (one list is enough to act on).
  for (const auto& t : obs.tally.peers()) {
    const Verdict v = judge(t, answer_by(obs, policy)).verdict;
    if (v == Verdict::IkeUnanswered || v == Verdict::OneWayOut || v == Verdict::OneWayIn) {
      const auto h = hints(v);
      const auto state = v == Verdict::OneWayIn ? State::Warning : State::Critical;
      if (state != r.state) continue;
      r.details.insert(r.details.end(), h.begin(), h.end());
      break;
    }
  }
  return r;
}

} // namespace sitelink::traffic
