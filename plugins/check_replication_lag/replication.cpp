// SPDX-License-Identifier: GPL-2.0-or-later
#include "replication.hpp"

#include <fmt/format.h>

#include "file_backend.hpp"
#include "sitelink/plugin.hpp"

namespace sitelink::replication {

namespace {

PluginInfo info()
{
  PluginInfo i;
  i.name = "check_replication_lag";
  i.service = "REPLICATION_LAG";
  i.synopsis = "--backend file --file PATH [--timestamp content|mtime] [-w RANGE] [-c RANGE] "
               "[-t SECONDS[:STATE]] [--runbook ID]";
  i.description = "Checks how far the copy of data at another site lags behind. The file backend "
                  "reads a heartbeat file that the live site writes and the sync carries to the "
                  "disaster-recovery site, and reports its age.";
  i.notes = "Defaults: -w 300 -c 900 (seconds of age). A missing heartbeat file is CRITICAL;\n"
            "a timestamp more than 60 s in the future is WARNING (clock skew).\n"
            "Example:\n"
            "  check_replication_lag --backend file --file /srv/dr/heartbeat -w 300 -c 900 \\\n"
            "    --runbook dr-vpn\n";
  return i;
}

po::options_description plugin_options()
{
  po::options_description o("Replication options");
  // clang-format off
  o.add_options()
    ("backend", po::value<std::string>()->value_name("NAME"), "Backend: file")
    ("warning,w", po::value<Range>()->value_name("RANGE"), "Warning range on the lag in seconds (default 300)")
    ("critical,c", po::value<Range>()->value_name("RANGE"), "Critical range on the lag in seconds (default 900)")
    ("file", po::value<std::string>()->value_name("PATH"), "file: the heartbeat file")
    ("timestamp", po::value<std::string>()->value_name("content|mtime"),
       "file: take the time from the first line (default) or the modification time");
  // clang-format on
  return o;
}

Range range_or(const Context& ctx, const char* name, double upper)
{
  if (ctx.has(name)) return ctx.vm()[name].as<Range>();
  Range r;
  r.end = upper;
  return r;
}

Result run_file(Context& ctx)
{
  if (!ctx.has("file")) throw UsageError("--backend file needs --file PATH");
  TimestampSource source = TimestampSource::Content;
  auto ts = ctx.get<std::string>("timestamp", "content");
  if (ts == "mtime") source = TimestampSource::Mtime;
  else if (ts != "content") throw UsageError("invalid value '" + ts + "' for option '--timestamp': expected content or mtime");
  HeartbeatPolicy policy{range_or(ctx, "warning", 300), range_or(ctx, "critical", 900), 60};
  auto obs = read_heartbeat(ctx.vm()["file"].as<std::string>(), source);
  ctx.debug(1, fmt::format("heartbeat read status {}", static_cast<int>(obs.status)));
  return evaluate_heartbeat(obs, policy, ctx.clock().now());
}

Result run(Context& ctx)
{
  if (!ctx.has("backend")) throw UsageError("missing --backend (file)");
  auto backend = ctx.vm()["backend"].as<std::string>();
  if (backend == "file") return run_file(ctx);
  throw UsageError("unknown backend '" + backend + "' for option '--backend'");
}

} // namespace

int main(int argc, const char* const* argv)
{
  return run_plugin(argc, argv, info(), plugin_options(), run);
}

} // namespace sitelink::replication
