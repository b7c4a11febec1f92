#ifndef DEFERRED_FAKE_TENSOR_JSON_NESTING_H_
#define DEFERRED_FAKE_TENSOR_JSON_NESTING_H_

#include <algorithm>
#include <string_view>

namespace deferred {

// The deepest nesting of JSON arrays and objects in `text`, counting brackets outside
// strings. File readers refuse text nested deeper than their format allows before
// parsing it, so that a recursive parser cannot exhaust the stack on hostile input.
inline int JsonNestingDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_JSON_NESTING_H_
