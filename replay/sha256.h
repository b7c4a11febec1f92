#ifndef DEFERRED_REPLAY_SHA256_H_
#define DEFERRED_REPLAY_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace deferred {

// SHA-256 (FIPS 180-4) of a byte string, computed incrementally: the checksum of trace
// files. Update with the bytes in order, then Finish once.
class Sha256 {
 public:
  // How blocks are compressed: portable C++, or the x86 SHA extensions (SHA-NI), which are
  // about ten times faster where the CPU has them. Both give the same digests.
  enum class Engine { kPortable, kShaExtensions };
  static bool Supported(Engine engine);
  // The fastest engine this CPU supports.
  static Engine Fastest();

  explicit Sha256(Engine engine = Fastest());

  void Update(std::string_view bytes);
  // The digest of everything passed to Update. Call once.
  std::array<uint8_t, 32> Finish();

  // The digest of `bytes` in lowercase hex (64 characters).
  static std::string HexDigest(std::string_view bytes);

 private:
  // Compresses `blocks` 64-byte blocks at `data` into state_.
  void Compress(const uint8_t* data, size_t blocks);

  Engine engine_;
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_;
  uint64_t length_ = 0;  // bytes passed to Update
};

}  // namespace deferred

#endif  // DEFERRED_REPLAY_SHA256_H_
