# SPDX-License-Identifier: GPL-2.0-or-later
# Runs PLUGIN ARG and checks exit code 3 and that stdout starts with EXPECT.
execute_process(COMMAND ${PLUGIN} ${ARG} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 3)
  message(FATAL_ERROR "${PLUGIN} ${ARG}: exit ${rc}, expected 3")
endif()
if(NOT err STREQUAL "")
  message(FATAL_ERROR "${PLUGIN} ${ARG}: stderr not empty: ${err}")
endif()
string(FIND "${out}" "${EXPECT}" pos)
if(NOT pos EQUAL 0)
  message(FATAL_ERROR "${PLUGIN} ${ARG}: output does not start with '${EXPECT}':\n${out}")
endif()
