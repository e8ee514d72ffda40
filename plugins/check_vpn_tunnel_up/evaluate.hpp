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
#include <vector>

#include "sitelink/range.hpp"
#include "sitelink/result.hpp"
#include "sitelink/state.hpp"

namespace sitelink::vpn {

enum class TunnelState { Up, Down, Connecting, Stale, Missing };
std::string_view to_string(TunnelState s) noexcept;

struct Tunnel {
  std::string name;
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
Result evaluate(const Observation& obs, const Policy& policy);

// Output stays within the 8 KiB that Nagios reads. Per-tunnel perfdata
// (<name>_up, _in_idle, _handshake_age, _bytes_in, _bytes_out) is kept while
// there are at most 20 expected tunnels and it fits in about 5 KiB (label +
// 30 bytes per item); beyond that line 1 carries aggregates instead
// (in_idle_max, handshake_age_max, bytes_in, bytes_out). The choice depends
// only on the expected tunnels' names, so the labels are the same in every
// state. `items` is the number of items per tunnel.
constexpr std::size_t max_per_tunnel_perfdata_tunnels = 20;
constexpr std::size_t max_per_tunnel_perfdata_bytes = 5120;
bool per_tunnel_perfdata(const std::vector<std::string>& names, std::size_t items);

// The summary names the tunnels that are not up while it stays within this
// many bytes, then counts the rest ("and 7 more not up").
constexpr std::size_t max_not_up_summary_bytes = 1024;

} // namespace sitelink::vpn
