// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// An in-memory Stream for protocol tests: replies are served in chunks of
// at most `chunk` bytes (to exercise reassembly), writes are recorded, and
// running out of reply data is a timeout, as with a peer that went silent.

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

#include "sitelink/socket.hpp"

namespace sitelink::test {

class FakeStream final : public net::Stream {
public:
  explicit FakeStream(std::string reply, std::size_t chunk = 7) : reply_(std::move(reply)), chunk_(chunk) {}
  tl::expected<std::size_t, net::IoError> read_some(char* buf, std::size_t len) override
  {
    if (pos_ >= reply_.size()) {
      if (close_at_end) return tl::unexpected(net::IoError{net::ErrorKind::Closed, 0, "the peer closed the connection"});
      return tl::unexpected(net::IoError{net::ErrorKind::Timeout, 0, "read: no answer before the deadline"});
    }
    std::size_t n = std::min({len, chunk_, reply_.size() - pos_});
    std::copy_n(reply_.data() + pos_, n, buf);
    pos_ += n;
    return n;
  }
  tl::expected<void, net::IoError> write_all(std::string_view data) override
  {
    written.append(data);
    return {};
  }
  std::string written;
  bool close_at_end = false;

private:
  std::string reply_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

inline std::string read_fixture(const std::string& name)
{
  std::ifstream in(std::string(SITELINK_FIXTURES) + "/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace sitelink::test
