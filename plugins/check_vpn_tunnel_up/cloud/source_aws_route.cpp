// SPDX-License-Identifier: GPL-2.0-or-later
// --backend aws-route: DescribeRouteTables for one route table; the route to
// the on-premises CIDR is judged by evaluate_route (evaluate_cloud.cpp).
#include <fmt/format.h>

#include "source_aws.hpp"

namespace sitelink::vpn::cloud::aws {

Reply run_route(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
                const Deadline& deadline, double now)
{
  Reply reply;
  Session s{req, http, deadline, reply};
  auto prep = prepare(s, env, fs, now);
  if (!prep) return fail_call(s, prep.error());
  const auto url = service_endpoint(req, env, "ec2", prep->region);
  reply.api = "AWS EC2 at " + url_origin(url);
  std::string form = "RouteTableId.1=" + url_encode(req.route_table_id) + "&Version=" + ec2_version;
  auto body = call(s, url, "ec2", prep->region, prep->creds, "DescribeRouteTables", form);
  if (!body) return fail_call(s, body.error());
  auto f = parse_route_tables(*body, req.route_table_id, req.destination);
  if (!f) return s.fail(f.error());
  s.debug(2, fmt::format("aws: route {} in {}: {}", req.destination, req.route_table_id,
                         f->found ? f->state + " via " + f->target : std::string("absent")));
  reply.route = std::move(*f);
  reply.status = Reply::Status::Ok;
  return reply;
}

} // namespace sitelink::vpn::cloud::aws
