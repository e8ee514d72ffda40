# SPDX-License-Identifier: GPL-2.0-or-later
# `cmake --build --preset ci --target format` reformats the tracked C++
# sources with .clang-format; `--target check_format` fails on any file that
# is not formatted (both run the scripts of the same name in scripts/).
add_custom_target(format COMMAND ${PROJECT_SOURCE_DIR}/scripts/format
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} USES_TERMINAL VERBATIM)
add_custom_target(check_format COMMAND ${PROJECT_SOURCE_DIR}/scripts/check-format
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} USES_TERMINAL VERBATIM)
