// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend aws, aws-route and aws-eip, the I/O half: the credential chain and the
// signed EC2/STS Query API calls, over the Environment, FileSystem and
// HttpClient interfaces (fakes in unit tests). parse_aws.hpp reads replies.

#include <functional>
#include <optional>
#include <string>

#include <tl/expected.hpp>

#include "cloud_api.hpp"
#include "host.hpp"
#include "parse_aws.hpp"
#include "session.hpp"
#include "sitelink/http.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::vpn::cloud {

using Trace = std::function<void(int level, const std::string& line)>;

namespace aws {

inline constexpr const char* ec2_version = "2016-11-15";

std::string credentials_file(const Environment& env);
std::string config_file(const Environment& env);
// --profile, then AWS_PROFILE, then "default".
std::string profile_name(const Environment& env, const std::string& cli_profile);

tl::expected<std::string, std::string> resolve_region(const Environment& env, const FileSystem& fs,
                                                      const std::string& cli_region, const std::string& cli_profile);

// AWS's order: environment, shared files, container credentials, IMDSv2.
// `now` (epoch) rejects credentials that have already expired.
tl::expected<Credentials, std::string> resolve_credentials(const Environment& env, const FileSystem& fs,
                                                           HttpClient& http, const Deadline& deadline,
                                                           const std::string& cli_profile, double now,
                                                           const Trace& trace);

// A failed Query API call: the API's error, or why there was no answer.
struct CallError {
  std::optional<ApiError> api; // the API answered with an error
  std::string text;
  bool timed_out = false;
};

// The endpoint of `service` (ec2, sts): AWS_ENDPOINT_URL_<SERVICE>,
// --endpoint-url, AWS_ENDPOINT_URL, else AWS's regional one.
std::string service_endpoint(const Request& req, const Environment& env, const std::string& service,
                             const std::string& region);

// One Query API call: POST, form body, SigV4; throttling and 5xx retried
// once when the deadline allows.
tl::expected<std::string, CallError> call(const Session& s, const std::string& url, const std::string& service,
                                          const std::string& region, const Credentials& creds,
                                          const std::string& action, const std::string& form);

// The region and credentials (after AssumeRole with --role-arn).
struct Prepared {
  std::string region;
  Credentials creds;
};
tl::expected<Prepared, CallError> prepare(const Session& s, const Environment& env, const FileSystem& fs, double now);

// The reply for a failed call (TimedOut when it ran out of time).
Reply& fail_call(const Session& s, const CallError& e);

// What every EC2 backend starts with: the region, the credentials (after
// AssumeRole with --role-arn) and the EC2 endpoint; names the API in
// s.reply.api.
struct Ec2 {
  Prepared prep;
  std::string url;
};
tl::expected<Ec2, CallError> open_ec2(const Session& s, const Environment& env, const FileSystem& fs, double now);
// One EC2 call (call() with the API version added to the form).
tl::expected<std::string, CallError> ec2_call(const Session& s, const Ec2& ec2, const std::string& action,
                                              const std::string& form);

// What every EC2 backend's run does: a fresh Reply and Session, open_ec2
// (a failure to open it is the answer), then `body(s, ec2)`, whose Reply&
// (s.reply or a failure) is the answer.
template <class Body>
Reply with_ec2(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
               const Deadline& deadline, double now, Body&& body)
{
  Reply reply;
  Session s{req, http, deadline, reply};
  auto ec2 = open_ec2(s, env, fs, now);
  if (!ec2) return fail_call(s, ec2.error());
  return body(s, *ec2);
}

// The whole backends over an HttpClient (a fake in unit tests).
Reply run_vpn(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
              const Deadline& deadline, double now);
Reply run_route(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
                const Deadline& deadline, double now);
Reply run_eip(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
              const Deadline& deadline, double now);

} // namespace aws
} // namespace sitelink::vpn::cloud
