# SPDX-License-Identifier: GPL-2.0-or-later
add_library(sitelink_warnings INTERFACE)
target_compile_options(sitelink_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wformat=2 -Wimplicit-fallthrough)
if(SITELINK_WERROR)
  target_compile_options(sitelink_warnings INTERFACE -Werror)
endif()
# Every target that takes the warnings takes the sanitizers too (an empty
# target unless SITELINK_SANITIZE is on).
target_link_libraries(sitelink_warnings INTERFACE sitelink_sanitizers)
