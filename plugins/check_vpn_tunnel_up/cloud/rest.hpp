// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// One REST request of the azure and gcp backends with the throttling rule
// of issue 22: a 429 (or a 503 that names a Retry-After) is retried once
// when the wait it asks for and a second attempt as long as the first still
// fit in the check's budget; otherwise the throttling is the answer.

#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "session.hpp"

namespace sitelink::vpn::cloud::rest {

struct Failure {
  bool timed_out = false;
  std::string text; // "<what>: <transport error>"
};

// Retry-After in delta-seconds (RFC 9110 section 10.2.3); an HTTP date or
// nothing counts as 1 s. Capped at 60 s.
double retry_after_seconds(std::string_view header);

// `what` names the call for activity, debug lines and errors ("Azure
// Resource Manager", "Compute Engine"); `tag` prefixes the debug lines.
// The request's headers are never traced: they carry the bearer token.
// A throttled answer returned after the retry carries the pseudo header
// X-Sitelink-Attempts: 2 (for throttle_note), never sent anywhere.
tl::expected<HttpResponse, Failure> send(const Session& s, const HttpRequest& rq, const std::string& what,
                                         const std::string& tag);

// Appended to an error after a throttled answer: why it was not retried.
std::string throttle_note(long status, int attempts);

// Marks the session's reply failed with f's text (TimedOut instead of Failed
// when f ran out of time) and returns it.
Reply& fail(const Session& s, const Failure& f);

} // namespace sitelink::vpn::cloud::rest
