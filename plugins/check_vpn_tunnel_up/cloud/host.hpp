// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The process environment and configuration files as interfaces, so that
// the credential chains are unit-tested with fakes.

#include <map>
#include <optional>
#include <string>

namespace sitelink::vpn::cloud {

class Environment {
public:
  virtual ~Environment() = default;
  // Unset and empty are the same: an empty variable selects nothing.
  virtual std::optional<std::string> get(const std::string& name) const = 0;
};

struct FileRead {
  enum class Status { Ok, Missing, Refused };
  Status status = Status::Missing;
  std::string text;
  std::string error; // Refused: why (permissions, I/O error)
};

class FileSystem {
public:
  virtual ~FileSystem() = default;
  // Reads a file that holds secrets. Refuses one that other users may read
  // or that the group may write, as ssh and libpq do.
  virtual FileRead read_secret_file(const std::string& path) const = 0;
};

class ProcessEnvironment final : public Environment {
public:
  std::optional<std::string> get(const std::string& name) const override;
};

class RealFileSystem final : public FileSystem {
public:
  FileRead read_secret_file(const std::string& path) const override;
};

class FakeEnvironment final : public Environment {
public:
  std::map<std::string, std::string> vars;
  std::optional<std::string> get(const std::string& name) const override
  {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  }
};

class FakeFileSystem final : public FileSystem {
public:
  std::map<std::string, FileRead> files;
  FileRead read_secret_file(const std::string& path) const override
  {
    auto it = files.find(path);
    return it == files.end() ? FileRead{} : it->second;
  }
};

} // namespace sitelink::vpn::cloud
