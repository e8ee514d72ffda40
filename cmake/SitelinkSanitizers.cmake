# SPDX-License-Identifier: GPL-2.0-or-later
# sitelink_sanitizers: ASan and UBSan (-DSITELINK_SANITIZE=ON, the dev preset)
# as an INTERFACE target, linked by every target that links sitelink_warnings
# (the libraries, plugins, modules, tests and tools of the tree), so nothing
# outside the project's own targets is compiled with them.
add_library(sitelink_sanitizers INTERFACE)
if(SITELINK_SANITIZE)
  target_compile_options(sitelink_sanitizers INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                       -fno-sanitize-recover=undefined)
  target_link_options(sitelink_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
