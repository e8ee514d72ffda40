// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The one in-memory net::Stream of the unit tests and fuzzers: the peer's
// reply is served in chunks of at most `chunk` bytes (to exercise
// reassembly), writes are recorded, and at the end of the reply the peer
// either closes or goes silent (a timeout, as a real deadline would report).
// A client that writes more than 1 MiB aborts, so a fuzzer reports a client
// that loops on writing as a crash rather than as memory growth.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sitelink/socket.hpp"

namespace sitelink::test {

class FakeStream final : public net::Stream {
public:
  explicit FakeStream(std::string_view reply, std::size_t chunk = 7, bool close_at_end_ = false)
      : close_at_end(close_at_end_), reply_(reply), chunk_(std::max<std::size_t>(chunk, 1))
  {}
  tl::expected<std::size_t, net::IoError> read_some(char* buf, std::size_t len) override
  {
    if (pos_ >= reply_.size()) {
      if (close_at_end)
        return tl::unexpected(net::IoError{net::ErrorKind::Closed, 0, "the peer closed the connection"});
      return tl::unexpected(net::IoError{net::ErrorKind::Timeout, 0, "read: no answer before the deadline"});
    }
    std::size_t n = std::min({len, chunk_, reply_.size() - pos_});
    std::copy_n(reply_.data() + pos_, n, buf);
    pos_ += n;
    return n;
  }
  tl::expected<void, net::IoError> write_all(std::string_view data) override
  {
    if (written.size() + data.size() > max_written) {
      std::fprintf(stderr, "FakeStream: client wrote more than 1 MiB to a peer\n");
      std::abort();
    }
    written.append(data);
    return {};
  }

  std::string written;
  bool close_at_end;

private:
  static constexpr std::size_t max_written = std::size_t{1} << 20;
  std::string reply_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

} // namespace sitelink::test
