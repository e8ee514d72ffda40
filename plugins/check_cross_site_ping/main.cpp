// SPDX-License-Identifier: GPL-2.0-or-later
#include "ping.hpp"

int main(int argc, char** argv)
{
  return sitelink::ping::main(argc, argv);
}
