# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the demo parts: show a check's output the way Icinga shows it.
LAB=${LAB:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tests/lab/lab}

# show TITLE CMD... : runs a plugin, prints its output and exit state.
show() {
  local title=$1
  shift
  local out rc
  set +e
  out=$("$@" 2>&1)
  rc=$?
  set -e
  local states=(OK WARNING CRITICAL UNKNOWN)
  printf '\n--- %s  [exit %s: %s]\n' "$title" "$rc" "${states[$rc]:-INVALID}"
  printf '$ %s\n' "$(basename "$1") ${*:2}"
  printf '%s\n' "$out" | sed 's/^/  /'
}
