// SPDX-License-Identifier: GPL-2.0-or-later
#include "plugin.hpp"

int main(int argc, char** argv)
{
  return sitelink::traffic::main(argc, argv);
}
