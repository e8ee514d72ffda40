// SPDX-License-Identifier: GPL-2.0-or-later
// The VICI codec (strongSwan's control protocol).
// Input: one packet as read from the socket, without its u32 length prefix.
#include "fuzz_support.hpp"
#include "sitelink/vici.hpp"

using namespace sitelink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view bytes = fuzz::as_view(data, size);
  (void)vici::decode_message(bytes);
  auto p = vici::decode_packet(bytes);
  if (!p) return 0;
  // What we decoded we can encode, and encoding is stable from then on:
  // decode(encode(p)) encodes to the same bytes.
  auto once = vici::encode_packet(*p);
  if (!once) fuzz::fail("a decoded packet does not encode", once.error());
  if (once->size() < 4) fuzz::fail("encoded packet without its length prefix");
  auto again = vici::decode_packet(std::string_view(*once).substr(4));
  if (!again) fuzz::fail("an encoded packet does not decode", again.error());
  auto twice = vici::encode_packet(*again);
  if (!twice || *twice != *once) fuzz::fail("VICI encoding is not stable");
  return 0;
}
