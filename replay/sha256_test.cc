#include "replay/sha256.h"

#include <random>
#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

std::string Hex(const std::array<uint8_t, 32>& digest) {
  std::string hex;
  for (uint8_t byte : digest) absl::StrAppendFormat(&hex, "%02x", byte);
  return hex;
}

std::string Digest(Sha256::Engine engine, std::string_view bytes) {
  Sha256 sha(engine);
  sha.Update(bytes);
  return Hex(sha.Finish());
}

// FIPS 180-2 appendix B and NIST's SHA-256 examples (one-block, two-block, long message),
// with every engine this CPU has.
TEST(Sha256Test, KnownAnswers) {
  for (const Sha256::Engine engine : {Sha256::Engine::kPortable, Sha256::Engine::kShaExtensions}) {
    if (!Sha256::Supported(engine)) continue;
    EXPECT_EQ(Digest(engine, "abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Digest(engine, std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
  EXPECT_EQ(Sha256::HexDigest(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256::HexDigest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256::HexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256::HexDigest(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, EnginesAgreeOnEveryLength) {
  if (!Sha256::Supported(Sha256::Engine::kShaExtensions)) {
    GTEST_SKIP() << "this CPU has no SHA extensions; only the portable engine runs";
  }
  std::mt19937 rng(9);
  for (size_t size = 0; size < 1100; ++size) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    EXPECT_EQ(Digest(Sha256::Engine::kPortable, bytes),
              Digest(Sha256::Engine::kShaExtensions, bytes))
        << size;
  }
}

TEST(Sha256Test, IncrementalUpdatesGiveTheDigestOfTheWhole) {
  std::mt19937 rng(3);
  std::string bytes(5000, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  Sha256 whole;
  whole.Update(bytes);
  const auto expected = whole.Finish();
  for (int trial = 0; trial < 200; ++trial) {
    Sha256 pieces;
    for (size_t at = 0; at < bytes.size();) {
      const size_t take = std::min<size_t>(rng() % 130, bytes.size() - at);
      pieces.Update(std::string_view(bytes).substr(at, take));
      at += take;
    }
    EXPECT_EQ(pieces.Finish(), expected);
  }
}

}  // namespace
}  // namespace deferred
