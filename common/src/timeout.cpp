// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/timeout.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sitelink/number.hpp"

namespace sitelink {

tl::expected<TimeoutSpec, std::string> parse_timeout(std::string_view text)
{
  TimeoutSpec spec;
  auto colon = text.find(':');
  auto secs = text.substr(0, colon);
  auto v = parse_number(secs);
  if (!v || *v <= 0 || *v > 86400)
    return tl::unexpected("invalid timeout '" + std::string(text) +
                          "' for option '--timeout': expected SECONDS[:STATE], SECONDS > 0");
  spec.seconds = *v;
  if (colon != std::string_view::npos) {
    auto st = parse_state(text.substr(colon + 1));
    if (!st)
      return tl::unexpected("invalid timeout state in '" + std::string(text) +
                            "' for option '--timeout': expected ok, warning, critical, unknown or 0-3");
    spec.state = *st;
  }
  return spec;
}

Deadline::Deadline(double budget_seconds) : start_(clock::now()), budget_(budget_seconds)
{}

Deadline::Deadline(double budget_seconds, double already_elapsed)
    : start_(clock::now() - std::chrono::duration_cast<clock::duration>(
                                std::chrono::duration<double>(std::max(0.0, already_elapsed)))),
      budget_(budget_seconds)
{}

double seconds_since_process_start() noexcept
{
  // Field 22 of /proc/self/stat, after the parenthesised command name:
  // clock ticks since boot at which the process started.
  int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return 0;
  // After ") " comes field 3 (state); starttime is field 22.
  unsigned long long start_ticks = 0;
  int field = 2;
  for (const char* q = p + 1; *q != '\0'; ++q) {
    if (*q != ' ') continue;
    if (++field == 22) {
      start_ticks = std::strtoull(q + 1, nullptr, 10);
      break;
    }
  }
  long hz = ::sysconf(_SC_CLK_TCK);
  timespec now{};
  if (start_ticks == 0 || hz <= 0 || ::clock_gettime(CLOCK_BOOTTIME, &now) != 0) return 0;
  double since = static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9 -
                 static_cast<double>(start_ticks) / static_cast<double>(hz);
  // A tick is 10 ms: a negative value is rounding; an hour means the clocks
  // disagree (a time namespace), not a slow start.
  return since > 0 && since < 3600 ? since : 0;
}

double Deadline::elapsed() const noexcept
{
  return std::chrono::duration<double>(clock::now() - start_).count();
}

double Deadline::remaining() const noexcept
{
  return std::max(0.0, budget_ - elapsed());
}

std::chrono::milliseconds Deadline::slice(double fraction, double margin_seconds, long min_ms) const noexcept
{
  double ms = (remaining() - margin_seconds) * fraction * 1000.0;
  long v = static_cast<long>(std::max(static_cast<double>(min_ms), ms));
  return std::chrono::milliseconds(v);
}

namespace {

constexpr std::size_t max_children = 64;
char g_service[64];
char g_timeout_head[256];
char g_term_head[256];
std::array<char, 8192> g_timeout_tail{};
std::array<char, 8192> g_term_tail{};
std::size_t g_timeout_tail_len = 0;
std::size_t g_term_tail_len = 0;
int g_timeout_code = 3;
char g_activity[2][240];
std::atomic<int> g_activity_slot{0};
std::atomic<pid_t> g_children[max_children];

void write_all(const char* p, std::size_t n) noexcept
{
  while (n > 0) {
    ssize_t w = ::write(STDOUT_FILENO, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void write_str(const char* s) noexcept
{
  write_all(s, std::strlen(s));
}

void kill_children() noexcept
{
  for (auto& c : g_children) {
    pid_t p = c.load();
    if (p > 0) ::kill(p, SIGKILL);
  }
}

void finish(const char* head, const char* tail, std::size_t tail_len, int code) noexcept
{
  kill_children();
  write_str(head);
  const char* act = g_activity[g_activity_slot.load() & 1];
  write_str(act[0] != '\0' ? act : "running the check");
  write_all("\n", 1);
  write_all(tail, tail_len);
  ::_exit(code);
}

extern "C" void on_alarm(int) noexcept
{
  finish(g_timeout_head, g_timeout_tail.data(), g_timeout_tail_len, g_timeout_code);
}

extern "C" void on_term(int) noexcept
{
  finish(g_term_head, g_term_tail.data(), g_term_tail_len, 3);
}

void copy_tail(std::array<char, 8192>& dst, std::size_t& len, const std::string& src)
{
  len = std::min(src.size(), dst.size());
  std::memcpy(dst.data(), src.data(), len);
}

} // namespace

namespace watchdog {

void install_signal_handlers(std::string_view service)
{
  auto n = std::min(service.size(), sizeof(g_service) - 1);
  std::memcpy(g_service, service.data(), n);
  g_service[n] = '\0';
  std::snprintf(g_term_head, sizeof g_term_head, "%s UNKNOWN - terminated by signal while ", g_service);
  struct sigaction sa {};
  sa.sa_handler = on_term;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGALRM);
  sa.sa_flags = 0;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, nullptr);
}

void arm(double seconds, State on_timeout, const std::string& timeout_tail, const std::string& term_tail,
         double already_elapsed)
{
  std::string secs = format_number(std::round(seconds * 1000) / 1000);
  std::snprintf(g_timeout_head, sizeof g_timeout_head, "%s %s - timed out after %s s while ", g_service,
                std::string(to_string(on_timeout)).c_str(), secs.c_str());
  g_timeout_code = exit_code(on_timeout);
  copy_tail(g_timeout_tail, g_timeout_tail_len, timeout_tail);
  copy_tail(g_term_tail, g_term_tail_len, term_tail);
  struct sigaction sa {};
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGHUP);
  sa.sa_flags = 0; // no SA_RESTART: blocking calls must not resume
  ::sigaction(SIGALRM, &sa, nullptr);
  struct itimerval it {};
  auto usec = static_cast<long>(std::max(0.01, seconds - std::max(0.0, already_elapsed)) * 1e6);
  it.it_value.tv_sec = usec / 1000000;
  it.it_value.tv_usec = usec % 1000000;
  ::setitimer(ITIMER_REAL, &it, nullptr);
}

void disarm() noexcept
{
  struct itimerval it {};
  ::setitimer(ITIMER_REAL, &it, nullptr);
}

void hold() noexcept
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGALRM);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

void set_activity(std::string_view what) noexcept
{
  int next = (g_activity_slot.load() + 1) & 1;
  char* buf = g_activity[next];
  std::size_t n = 0;
  for (char c : what) {
    if (n + 1 >= sizeof g_activity[0]) break;
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) continue;
    buf[n++] = c == '|' ? ' ' : c;
  }
  buf[n] = '\0';
  g_activity_slot.store(next);
}

std::string activity()
{
  return g_activity[g_activity_slot.load() & 1];
}

void register_child(pid_t pid) noexcept
{
  for (auto& c : g_children) {
    pid_t expected = 0;
    if (c.compare_exchange_strong(expected, pid)) return;
  }
}

void unregister_child(pid_t pid) noexcept
{
  for (auto& c : g_children) {
    pid_t expected = pid;
    if (c.compare_exchange_strong(expected, 0)) return;
  }
}

} // namespace watchdog

Activity::Activity(std::string_view what) : previous_(watchdog::activity())
{
  watchdog::set_activity(what);
}

Activity::~Activity()
{
  watchdog::set_activity(previous_);
}

} // namespace sitelink
