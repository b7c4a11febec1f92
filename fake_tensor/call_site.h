#ifndef DEFERRED_FAKE_TENSOR_CALL_SITE_H_
#define DEFERRED_FAKE_TENSOR_CALL_SITE_H_

namespace deferred {

// Where model code called an op: a file and line, recorded with the op so that a trace
// and replay errors can point back to the line that asked for it.
//
// Public op functions end with a parameter `CallSite site = CallSite::Here()`, which the
// compiler fills with the caller's file and line, and hand it on to the ops they call
// (zeros to full, an initializer to uniform_), so a recorded op names the line of the
// model or layer that called the outermost function, never a line inside the library.
// Operators (`a + b`) cannot take one: their ops carry no site.
class CallSite {
 public:
  // As a defaulted parameter (`CallSite site = CallSite::Here()`): the file and line of
  // the call. CallSite has no other public way in, so nothing, `{}` included, converts to
  // one by accident (`sum(t, {})` means all dims).
  static CallSite Here(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    return CallSite(file, line, Key());
  }

  // No call site: an op the library issues on its own behalf.
  static CallSite Unknown() { return CallSite(nullptr, 0, Key()); }

  // The file as the compiler was given it ("examples/models/gpt2.cc"), or null.
  const char* file() const { return file_; }
  int line() const { return line_; }

 private:
  // The key keeps brace lists such as `{0, 2}` from matching the constructor.
  struct Key {};
  CallSite(const char* file, int line, Key) : file_(file), line_(line) {}

  const char* file_;  // static storage
  int line_;
};

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_CALL_SITE_H_
