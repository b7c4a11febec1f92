#ifndef DEFERRED_REPLAY_BASE64_H_
#define DEFERRED_REPLAY_BASE64_H_

#include <optional>
#include <string>
#include <string_view>

namespace deferred {

// Base64 of RFC 4648 section 4 (alphabet A-Z a-z 0-9 + /, '=' padding): how trace files
// hold the bytes of constants.
std::string Base64Encode(std::string_view bytes);

// The bytes `text` encodes, or nullopt unless it is canonical base64: a multiple of 4
// characters of the alphabet, padded with '=' as Base64Encode pads, and unused bits of
// the last character zero, so that every byte string has exactly one encoding.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace deferred

#endif  // DEFERRED_REPLAY_BASE64_H_
