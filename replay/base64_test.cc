#include "replay/base64.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace deferred {
namespace {

// RFC 4648, section 10.
TEST(Base64Test, KnownAnswers) {
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [bytes, text] : kVectors) {
    EXPECT_EQ(Base64Encode(bytes), text);
    EXPECT_EQ(Base64Decode(text), std::string(bytes));
  }
}

TEST(Base64Test, RoundTripsEveryByteString) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
  }
}

TEST(Base64Test, NonCanonicalTextIsRefused) {
  for (const char* bad : {"Zg", "Zg=", "Zh==", "Zm9=", "Z===", "====", "Zm 9", "Zm9v\n", "=Zm9",
                          "Zg==Zg==", "Zm-v", "Zm_v"}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace deferred
