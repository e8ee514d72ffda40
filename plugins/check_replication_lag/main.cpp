// SPDX-License-Identifier: GPL-2.0-or-later
#include "replication.hpp"

int main(int argc, char** argv)
{
  return sitelink::replication::main(argc, argv);
}
