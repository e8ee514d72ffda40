// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The tunnel model shared by every backend, and the pure judgement over it.
//
//   Source (strongSwan VICI, OpenVPN management, WireGuard UAPI)
//     -> Observation {tunnels, configured names}
//     -> evaluate(Observation, Policy, ...) -> Result

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sitelink/range.hpp"
#include "sitelink/result.hpp"
#include "sitelink/state.hpp"

namespace sitelink::vpn {

enum class TunnelState { Up, Down, Connecting, Stale, Missing };
std::string_view to_string(TunnelState s) noexcept;

struct Tunnel {
  std::string name;
  // The site this tunnel leads to (aws: its VPN connection; openstack: the
  // peer's networks; openvpn pair: the client or point-to-point name;
  // strongswan: its --group). Empty: no group.
  std::string group;
  TunnelState state = TunnelState::Down;
  std::optional<double> since;         // seconds in this state
  std::optional<double> last_inbound;  // seconds since the last inbound packet
  std::optional<double> handshake_age; // WireGuard: seconds since the last handshake
  // strongSwan: seconds since the last outbound packet (CHILD SA use-out).
  std::optional<double> last_outbound;
  // The backend reports last_outbound (absent then means nothing sent);
  // false for OpenVPN and WireGuard: --stale judges inbound silence alone.
  bool reports_outbound = false;
  std::optional<double> keepalive; // WireGuard: persistent keepalive interval, 0 = off
  std::optional<double> bytes_in;
  std::optional<double> bytes_out;
  std::string detail; // backend's words: "no IKE SA", "IKE ESTABLISHED, CHILD INSTALLING"
  std::string note;   // long output only: what the daemon said of a stale tunnel
  // Set by the judgement on a tunnel that counts as up but is quiet (idle
  // both ways, or a WireGuard peer that cannot be told idle from down): what
  // is known, for the summary, and the state it contributes.
  std::string quiet;
  State quiet_state = State::Ok;
};

struct Observation {
  enum class Status {
    Read,         // the daemon answered
    DaemonDown,   // socket missing or refused: every tunnel is down
    NoPermission, // the plugin's user may not talk to the daemon
    Failed,       // timeout, protocol error, malformed reply
  };
  Status status = Status::Failed;
  std::string daemon;   // "charon", "OpenVPN", "wireguard-go"
  std::string endpoint; // socket path or host:port
  std::string error;    // why it was not Read (for the summary)
  std::string hint;     // what to do about it (long output), e.g. the group needed
  // Failed because the time budget ran out: reported like the watchdog's
  // own timeout (with the -t STATE), naming what was going on.
  bool timed_out = false;
  std::string activity;
  std::vector<Tunnel> tunnels;
  // Names the daemon has configured (connections, peers). Without --tunnel,
  // these are the expected tunnels; a configured one without a tunnel entry
  // is down.
  std::vector<std::string> configured;
  // WireGuard: emit <name>_handshake_age perfdata.
  bool has_handshakes = false;
};

struct Policy {
  std::vector<std::string> expected;         // --tunnel; empty: the configured ones
  std::optional<Range> warn;                 // default N: (all expected up)
  std::optional<Range> crit;                 // default 1: (at least one up)
  std::optional<double> stale;               // --stale: silence limit (judge_silence)
  std::optional<double> handshake_limit;     // WireGuard: handshake age limit
  State idle_state = State::Ok;              // --idle-state: silent both ways past --stale
  State no_keepalive_state = State::Warning; // --no-keepalive-state: old handshake, no keepalive
  // --group: tunnel name -> site (last, so that aggregate initialisers keep working).
  std::vector<std::pair<std::string, std::string>> group_of{};
};

// What --stale makes of one established tunnel's packet ages (seconds since
// the last inbound and outbound packet). Without an outbound figure, inbound
// silence alone is stale. With one, stale is one-way silence: nothing
// received for more than `limit` while something was sent after the last
// inbound packet (and so within that time); silent both ways is Idle.
enum class Silence { Fresh, Idle, Stale };
Silence judge_silence(std::optional<double> last_inbound, std::optional<double> last_outbound, bool reports_outbound,
                      double limit);

// An outbound packet this close after the last inbound one (strongSwan's
// ages are whole seconds) is taken as its answer (a TCP ACK, an echo reply),
// not as a request left unanswered.
constexpr double answer_slack = 1.0;

// Pure: the state of every expected tunnel, the count against the ranges,
// the summary, one long-output line per tunnel and the perfdata.
//
// Groups: when the judged tunnels fall into two or more groups (Tunnel::group,
// else Policy::group_of), -w/-c apply to each group's count and the worst
// group decides; a group with no tunnel up is CRITICAL whatever the ranges
// ("site X cut off: 0 of 2 tunnels up"). The summary gives each group's count
// and the perfdata a <group>_tunnels_up item per group. A tunnel without a
// group is then a group of its own. With fewer than two groups the judgement,
// text and perfdata are those of one group (no group items).
Result evaluate(const Observation& obs, const Policy& policy);

// Several daemons read as one observation (an OpenVPN pair: one per
// management endpoint, each named by `servers[i].first`). Tunnel names become
// "<server>/<name>" and each tunnel's group is its own name, so that the same
// client (or point-to-point tunnel) on either server is one site. A server
// that could not be read counts its `names` (the expected ones, else its
// point-to-point name) as down with the reason; the result is Read, and
// `expected` is filled with the qualified names.
Observation merge_servers(const std::vector<std::pair<std::string, Observation>>& servers,
                          const std::vector<std::string>& names, std::vector<std::string>& expected);

// The group items (<group>_tunnels_up) are kept while there are at most this
// many groups and their labels fit in 1 KiB; per-tunnel perfdata then takes
// what is left of its 5 KiB (see per_tunnel_perfdata). Group texts in the
// summary stop at max_group_summary_bytes, then count the rest.
constexpr std::size_t max_per_group_perfdata_groups = 20;
constexpr std::size_t max_per_group_perfdata_bytes = 1024;
constexpr std::size_t max_group_summary_bytes = 512;

// Output stays within the 8 KiB that Nagios reads. Per-tunnel perfdata
// (<name>_up, _in_idle, _handshake_age, _bytes_in, _bytes_out) is kept while
// there are at most 20 expected tunnels and it fits in about 5 KiB (label +
// 30 bytes per item); beyond that line 1 carries aggregates instead
// (in_idle_max, handshake_age_max, bytes_in, bytes_out). The choice depends
// only on the expected tunnels' names, so the labels are the same in every
// state. `items` is the number of items per tunnel.
constexpr std::size_t max_per_tunnel_perfdata_tunnels = 20;
constexpr std::size_t max_per_tunnel_perfdata_bytes = 5120;
bool per_tunnel_perfdata(const std::vector<std::string>& names, std::size_t items, std::size_t reserved = 0);

// The summary names the tunnels that are not up while it stays within this
// many bytes, then counts the rest ("and 7 more not up").
constexpr std::size_t max_not_up_summary_bytes = 1024;

} // namespace sitelink::vpn
