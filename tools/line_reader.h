#ifndef DEFERRED_TOOLS_LINE_READER_H_
#define DEFERRED_TOOLS_LINE_READER_H_

#include <optional>
#include <string>
#include <vector>

namespace deferred::tools {

// Reads command lines from standard input. On a terminal it shows `prompt` and edits the
// line in place (left/right, home/end, backspace, Ctrl-A/E/U) with a history on up/down;
// from a pipe it reads plain lines and echoes each after the prompt, so that a scripted
// session's output reads like an interactive one.
class LineReader {
 public:
  LineReader();

  // The next line without its newline, or nullopt at the end of input (Ctrl-D).
  std::optional<std::string> ReadLine(const std::string& prompt);

  bool terminal() const { return terminal_; }

 private:
  std::optional<std::string> ReadEdited(const std::string& prompt);

  bool terminal_;
  std::vector<std::string> history_;
};

}  // namespace deferred::tools

#endif  // DEFERRED_TOOLS_LINE_READER_H_
