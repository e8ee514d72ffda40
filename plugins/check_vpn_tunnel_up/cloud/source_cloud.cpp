// SPDX-License-Identifier: GPL-2.0-or-later
#include "source_cloud.hpp"

#include "sitelink/module.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::vpn::cloud {

tl::expected<Reply, std::string> ask_module(Request request)
{
  const ModuleTable* table = nullptr;
  {
    Activity act("loading the cloud backend module");
    auto loaded = load_module<ModuleTable>(module_name, module_symbol, cloud_abi);
    if (!loaded) return tl::make_unexpected(loaded.error());
    table = *loaded;
  }
  // The module has its own copy of the runtime: it names its steps for this
  // process's watchdog through the callback.
  request.set_activity = [](const char* what) noexcept { watchdog::set_activity(what); };
  Reply reply = table->run(request);
  if (reply.status == Reply::Status::TimedOut && reply.activity.empty()) reply.activity = watchdog::activity();
  return reply;
}

} // namespace sitelink::vpn::cloud
