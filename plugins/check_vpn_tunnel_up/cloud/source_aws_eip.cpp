// SPDX-License-Identifier: GPL-2.0-or-later
// --backend aws-eip: DescribeAddresses for one Elastic IP, then
// DescribeInstances for the instance holding it and the expected and standby
// instances. evaluate_eip (evaluate_route.cpp) judges the finding.
#include <algorithm>

#include <fmt/format.h>

#include "source_aws.hpp"

namespace sitelink::vpn::cloud::aws {

namespace {

// An unknown address or allocation ID is an error from EC2, not an empty
// answer; it means the address is not (or no longer) in this region.
bool not_found(const CallError& e)
{
  return e.api && (e.api->code == "InvalidAddress.NotFound" || e.api->code == "InvalidAllocationID.NotFound");
}

} // namespace

Reply run_eip(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
              const Deadline& deadline, double now)
{
  return with_ec2(req, env, fs, http, deadline, now, [&](const Session& s, const Ec2& ec2) -> Reply& {
    const std::string form = req.allocation_id.empty() ? "PublicIp.1=" + url_encode(req.public_ip)
                                                       : "AllocationId.1=" + url_encode(req.allocation_id);
    auto body = ec2_call(s, ec2, "DescribeAddresses", form);
    AddressFinding address;
    if (!body && !not_found(body.error())) return fail_call(s, body.error());
    if (body) {
      auto a = parse_addresses(*body);
      if (!a) return s.fail(a.error());
      address = std::move(*a);
    }
    s.debug(2, address.found ? fmt::format("aws: Elastic IP {} ({}) on {}", address.public_ip, address.allocation_id,
                                           address.instance_id.empty() ? "no instance" : address.instance_id)
                             : std::string("aws: Elastic IP not found"));
    // A filter rather than InstanceId.N: an instance ID that does not exist
    // is then simply absent instead of failing the whole call.
    std::vector<std::string> ids = req.instances;
    if (!address.instance_id.empty() && std::find(ids.begin(), ids.end(), address.instance_id) == ids.end())
      ids.push_back(address.instance_id);
    if (!ids.empty()) {
      std::string f = "Filter.1.Name=instance-id";
      for (std::size_t i = 0; i < ids.size(); ++i) f += fmt::format("&Filter.1.Value.{}={}", i + 1, url_encode(ids[i]));
      auto inst = ec2_call(s, ec2, "DescribeInstances", f);
      if (!inst) return fail_call(s, inst.error());
      auto parsed = parse_instances(*inst);
      if (!parsed) return s.fail(parsed.error());
      address.instances = std::move(*parsed);
    }
    s.reply.address = std::move(address);
    s.reply.status = Reply::Status::Ok;
    return s.reply;
  });
}

} // namespace sitelink::vpn::cloud::aws
