// SPDX-License-Identifier: GPL-2.0-or-later
// --extra-opts ini files: parse_ini, then expand() with a plugin-like option
// set. Input: the section name line, then the file.
#include "fuzz_support.hpp"
#include "sitelink/extra_opts.hpp"

using namespace sitelink;
namespace po = boost::program_options;

namespace {

const po::options_description& options()
{
  static const po::options_description d = [] {
    po::options_description o;
    // clang-format off
    o.add_options()
      ("backend", po::value<std::string>())
      ("port", po::value<int>())
      ("tunnel", po::value<std::vector<std::string>>())
      ("insecure", po::bool_switch())
      ("warning,w", po::value<std::string>())
      ("verbose,v", po::bool_switch());
    // clang-format on
    return o;
  }();
  return d;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view in = fuzz::as_view(data, size);
  auto nl = in.find('\n');
  std::string_view section = in.substr(0, nl);
  std::string_view text = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  auto args = extra_opts::parse_ini(text, "f.ini", section);
  if (!args) {
    // Every error names the file, and never quotes a line (it may be a secret).
    if (args.error().rfind("f.ini:", 0) != 0) fuzz::fail("error without the file name", args.error());
    return 0;
  }
  for (const auto& a : *args) {
    if (a.line < 1) fuzz::fail("argument without a line number", a.key);
    if (a.key.empty() || a.key.front() == '-') fuzz::fail("key that is not a whole option name", a.key);
    auto t = a.tokens();
    // A value never becomes an option of its own: one token, or "-k" VALUE.
    if (t.empty() || t.size() > 2 || t.front().front() != '-') fuzz::fail("bad token shape", a.key);
  }
  try {
    auto p = extra_opts::expand({"--port=1"}, *args, options(), {"verbose"});
    // What expand() accepted stores without error once the counted -v are
    // taken out, as the runtime does.
    std::vector<po::option> kept;
    for (auto& o : p.options)
      if (o.string_key != "verbose") kept.push_back(o);
    p.options = kept;
    po::variables_map vm;
    po::store(p, vm);
    if (vm["port"].as<int>() != 1) fuzz::fail("the command line's value did not win");
  } catch (const po::error& e) {
    if (std::string_view(e.what()).rfind("f.ini:", 0) != 0) fuzz::fail("file error without file:line", e.what());
  }
  return 0;
}
