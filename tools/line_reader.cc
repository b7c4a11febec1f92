#include "tools/line_reader.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace deferred::tools {
namespace {

// Puts the terminal in character-at-a-time mode for as long as it lives.
class RawMode {
 public:
  RawMode() {
    tcgetattr(STDIN_FILENO, &saved_);
    termios raw = saved_;
    raw.c_lflag &= ~(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    // TCSADRAIN, not TCSAFLUSH: keys typed ahead of the prompt are kept.
    tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
  }
  ~RawMode() { tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_); }

 private:
  termios saved_;
};

int ReadByte() {
  unsigned char c;
  return ::read(STDIN_FILENO, &c, 1) == 1 ? c : -1;
}

}  // namespace

LineReader::LineReader() : terminal_(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {}

std::optional<std::string> LineReader::ReadLine(const std::string& prompt) {
  if (terminal_) return ReadEdited(prompt);
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  std::cout << prompt << line << "\n";
  return line;
}

std::optional<std::string> LineReader::ReadEdited(const std::string& prompt) {
  std::cout.flush();
  RawMode raw;
  std::string line;
  size_t cursor = 0;
  size_t recalled = history_.size();  // history_.size(): the line being typed
  auto redraw = [&] {
    std::printf("\r\x1b[K%s%s\r\x1b[%zuC", prompt.c_str(), line.c_str(), prompt.size() + cursor);
    if (prompt.size() + cursor == 0) std::printf("\r");
    std::fflush(stdout);
  };
  redraw();
  for (;;) {
    const int c = ReadByte();
    if (c < 0 || (c == 4 && line.empty())) {  // end of input, or Ctrl-D on an empty line
      std::printf("\n");
      return std::nullopt;
    }
    if (c == '\r' || c == '\n') break;
    if (c == 127 || c == 8) {
      if (cursor > 0) line.erase(--cursor, 1);
    } else if (c == 1) {
      cursor = 0;
    } else if (c == 5) {
      cursor = line.size();
    } else if (c == 21) {
      line.erase(0, cursor);
      cursor = 0;
    } else if (c == 27) {
      if (ReadByte() != '[') continue;
      const int key = ReadByte();
      if (key == 'A' && recalled > 0) {
        line = history_[--recalled];
        cursor = line.size();
      } else if (key == 'B' && recalled < history_.size()) {
        line = ++recalled == history_.size() ? "" : history_[recalled];
        cursor = line.size();
      } else if (key == 'C' && cursor < line.size()) {
        ++cursor;
      } else if (key == 'D' && cursor > 0) {
        --cursor;
      } else if (key == 'H') {
        cursor = 0;
      } else if (key == 'F') {
        cursor = line.size();
      }
    } else if (c >= 32) {
      line.insert(cursor++, 1, static_cast<char>(c));
    }
    redraw();
  }
  std::printf("\n");
  if (!line.empty() && (history_.empty() || history_.back() != line)) history_.push_back(line);
  return line;
}

}  // namespace deferred::tools
