// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_stream.hpp"
#include "fixture.hpp"
#include "sitelink/socket.hpp"

using namespace sitelink;
using namespace std::chrono_literals;
using sitelink::test::FakeStream;

namespace {

// A unix socket in a private temporary directory; listening or merely bound.
struct TempSocket {
  std::string dir, path;
  int fd = -1;
  explicit TempSocket(bool listening)
  {
    char tmpl[] = "/tmp/sitelink-socktest-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/s.sock";
    fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    if (listening) REQUIRE(::listen(fd, 4) == 0);
  }
  ~TempSocket()
  {
    ::close(fd);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
};

double since(std::chrono::steady_clock::time_point t0)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

TEST_CASE("common::Socket::connect_unix")
{
  SUBCASE("no socket file is NotFound")
  {
    auto r = net::Socket::connect_unix("/nonexistent/dir/x.sock", net::deadline_in(500ms));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == net::ErrorKind::NotFound);
    CHECK(r.error().message.find("/nonexistent/dir/x.sock") != std::string::npos);
  }
  SUBCASE("a socket nobody listens on is Refused")
  {
    TempSocket s(false);
    auto r = net::Socket::connect_unix("unix://" + s.path, net::deadline_in(500ms));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == net::ErrorKind::Refused);
  }
  SUBCASE("a path that is too long is refused without a syscall")
  {
    auto r = net::Socket::connect_unix("/" + std::string(200, 'x'), net::deadline_in(500ms));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("too long") != std::string::npos);
  }
}

TEST_CASE("common::Socket::read_some")
{
  SUBCASE("a listener that never answers times out at the deadline")
  {
    TempSocket s(true);
    auto t0 = std::chrono::steady_clock::now();
    auto c = net::Socket::connect_unix(s.path, net::deadline_in(300ms));
    REQUIRE(c.has_value());
    REQUIRE(c->write_all("hello\n").has_value());
    char buf[16];
    auto r = c->read_some(buf, sizeof buf);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == net::ErrorKind::Timeout);
    CHECK(since(t0) >= 0.25);
    CHECK(since(t0) < 1.0);
  }
  SUBCASE("data and end of stream")
  {
    TempSocket s(true);
    auto c = net::Socket::connect_unix(s.path, net::deadline_in(1s));
    REQUIRE(c.has_value());
    int peer = ::accept(s.fd, nullptr, nullptr);
    REQUIRE(peer >= 0);
    REQUIRE(::write(peer, "abc", 3) == 3);
    ::close(peer);
    char buf[16];
    auto r = c->read_some(buf, sizeof buf);
    REQUIRE(r.has_value());
    CHECK(std::string(buf, *r) == "abc");
    CHECK(c->read_some(buf, sizeof buf).error().kind == net::ErrorKind::Closed);
    // writing to a closed peer is an error, not SIGPIPE
    auto w = c->write_all(std::string(300000, 'x'));
    CHECK_FALSE(w.has_value());
  }
}

TEST_CASE("common::read_exact")
{
  FakeStream s("abcdefghij", 3);
  char buf[8];
  REQUIRE(net::read_exact(s, buf, 8).has_value());
  CHECK(std::string(buf, 8) == "abcdefgh");
  CHECK(net::read_exact(s, buf, 8).error().kind == net::ErrorKind::Timeout);
}

TEST_CASE("common::LineReader::next")
{
  SUBCASE("splits lines and strips carriage returns")
  {
    FakeStream s("one\r\ntwo\n\nthree", 2);
    net::LineReader lr(s);
    CHECK(lr.next().value() == "one");
    CHECK(lr.next().value() == "two");
    CHECK(lr.next().value() == "");
    CHECK(lr.next().error().kind == net::ErrorKind::Timeout);
    CHECK(lr.pending() == "three");
  }
  SUBCASE("an endless line is cut off at the cap")
  {
    FakeStream s(std::string(5000, 'x'), 100);
    net::LineReader lr(s, 1000);
    auto r = lr.next();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == net::ErrorKind::TooLarge);
  }
}

TEST_CASE("common::to_string")
{
  CHECK(net::to_string(net::ErrorKind::Refused) == "connection refused");
  CHECK(net::to_string(net::ErrorKind::Timeout) == "timed out");
}
