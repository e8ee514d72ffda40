// SPDX-License-Identifier: GPL-2.0-or-later
#include "plugin.hpp"

int main(int argc, char** argv)
{
  return sitelink::vpn::main(argc, argv);
}
