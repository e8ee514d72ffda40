# SPDX-License-Identifier: GPL-2.0-or-later
# A plugin's command-line description is data: plugins/<plugin>/cli.json holds
# its name, service, synopsis, --help texts and option table. At configure
# time this file turns it into C++ (info() and plugin_options() in the
# plugin's namespace), so the plugins share one shape without four copies of
# the same declarations, and tools can read the options without parsing C++.
#
# cli.json:
#   namespace, name, service, synopsis, description: strings
#   notes: array of lines (each printed followed by a newline)
#   option_groups: array of {title, options: [{name, type, value, help}]};
#     the first group is the plugin's, the others are nested in it (as
#     po::options_description::add does); type is one of
#       text  (std::string)       list (std::vector<std::string>, repeatable)
#       int   (int)               range (sitelink::Range)
#       flag  (bool_switch, no value)
#
# sitelink_cli_source(<json> <output.cpp>) writes the source and, beside it,
# cli.hpp with the two declarations (plugin.cpp includes "cli.hpp"), and makes
# CMake configure again when the JSON changes.

function(_sitelink_cli_literal out text)
  string(FIND "${text}" ")cli\"" bad)
  if(NOT bad EQUAL -1)
    message(FATAL_ERROR "cli.json: a text contains the raw-string delimiter )cli\"")
  endif()
  set(${out} "R\"cli(${text})cli\"" PARENT_SCOPE)
endfunction()

function(_sitelink_cli_value out type value)
  if(type STREQUAL "text")
    set(v "po::value<std::string>()")
  elseif(type STREQUAL "list")
    set(v "po::value<std::vector<std::string>>()")
  elseif(type STREQUAL "int")
    set(v "po::value<int>()")
  elseif(type STREQUAL "range")
    set(v "po::value<Range>()")
  elseif(type STREQUAL "flag")
    set(${out} "po::bool_switch()" PARENT_SCOPE)
    return()
  else()
    message(FATAL_ERROR "cli.json: unknown option type '${type}'")
  endif()
  _sitelink_cli_literal(name "${value}")
  set(${out} "${v}->value_name(${name})" PARENT_SCOPE)
endfunction()

# Appends to the variable named `out_var` the statements that fill options_description `var` with
# group `g` of the JSON text `json`.
function(_sitelink_cli_group out_var json g var)
  set(c "${${out_var}}")
  string(JSON title GET "${json}" option_groups ${g} title)
  _sitelink_cli_literal(t "${title}")
  string(APPEND c "  po::options_description ${var}(${t});\n")
  string(JSON n LENGTH "${json}" option_groups ${g} options)
  if(n GREATER 0)
    string(APPEND c "  ${var}.add_options()")
    math(EXPR last "${n} - 1")
    foreach(k RANGE ${last})
      string(JSON name GET "${json}" option_groups ${g} options ${k} name)
      string(JSON type GET "${json}" option_groups ${g} options ${k} type)
      string(JSON help GET "${json}" option_groups ${g} options ${k} help)
      string(JSON value ERROR_VARIABLE none GET "${json}" option_groups ${g} options ${k} value)
      _sitelink_cli_value(v "${type}" "${value}")
      _sitelink_cli_literal(ln "${name}")
      _sitelink_cli_literal(lh "${help}")
      string(APPEND c "\n    (${ln}, ${v}, ${lh})")
    endforeach()
    string(APPEND c ";\n")
  endif()
  set(${out_var} "${c}" PARENT_SCOPE)
endfunction()

# Writes only when the text changes, so an unchanged file triggers no rebuild.
function(_sitelink_cli_write file text)
  set(old "")
  if(EXISTS ${file})
    file(READ ${file} old)
  endif()
  if(NOT old STREQUAL text)
    file(WRITE ${file} "${text}")
  endif()
endfunction()

function(sitelink_cli_source json_file output)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${json_file})
  file(READ ${json_file} json)
  foreach(key namespace name service synopsis description)
    string(JSON ${key} GET "${json}" ${key})
    _sitelink_cli_literal(lit_${key} "${${key}}")
  endforeach()
  set(notes "")
  string(JSON n LENGTH "${json}" notes)
  if(n GREATER 0)
    math(EXPR last "${n} - 1")
    foreach(k RANGE ${last})
      string(JSON line GET "${json}" notes ${k})
      string(APPEND notes "${line}\n")
    endforeach()
  endif()
  _sitelink_cli_literal(lit_notes "${notes}")

  file(RELATIVE_PATH shown ${PROJECT_SOURCE_DIR} ${json_file})
  set(code "// Generated from ${shown} by cmake/SitelinkCli.cmake: edit that file.\n")
  string(APPEND code "#include \"cli.hpp\"\n\nnamespace ${namespace} {\n\n")
  string(APPEND code "PluginInfo info()\n{\n  PluginInfo i;\n")
  foreach(key name service synopsis description notes)
    string(APPEND code "  i.${key} = ${lit_${key}};\n")
  endforeach()
  string(APPEND code "  return i;\n}\n\npo::options_description plugin_options()\n{\n")
  _sitelink_cli_group(code "${json}" 0 o)
  string(JSON groups LENGTH "${json}" option_groups)
  if(groups GREATER 1)
    math(EXPR last "${groups} - 1")
    foreach(g RANGE 1 ${last})
      _sitelink_cli_group(code "${json}" ${g} o${g})
      string(APPEND code "  o.add(o${g});\n")
    endforeach()
  endif()
  string(APPEND code "  return o;\n}\n\n} // namespace ${namespace}\n")
  _sitelink_cli_write(${output} "${code}")
  get_filename_component(dir ${output} DIRECTORY)
  set(header "// Generated from ${shown} by cmake/SitelinkCli.cmake: edit that file.\n#pragma once\n\n")
  string(APPEND header "#include \"sitelink/plugin.hpp\"\n\nnamespace ${namespace} {\n")
  string(APPEND header "PluginInfo info();\npo::options_description plugin_options();\n} // namespace ${namespace}\n")
  _sitelink_cli_write(${dir}/cli.hpp "${header}")
endfunction()
