#ifndef DEFERRED_TOOLS_DEBUGGER_H_
#define DEFERRED_TOOLS_DEBUGGER_H_

#include <ostream>

#include "tools/inspect.h"
#include "tools/line_reader.h"

namespace deferred::tools {

// Steps through the replay of one tensor, gdb-like. The replay stops after each op it
// runs when stepping, or at a breakpoint when continuing; at a stop it reads commands:
//   next | n              run the next op
//   continue | c          run to the next breakpoint or the end
//   break OP|MODULE|nonfinite   stop at ops of that name, in that module path (or under
//                         it), or whose output holds a NaN or Inf
//   print | p [SLICE]     statistics of the current op's value, or of a slice of it like
//                         [0:4, 0:8] with its values
//   where                 the op's module path, source line and RNG coordinates
//   region                the region of its output the op computed
//   list                  the recipe, the current op marked
//   quit | q              stop
// Returns 0 when the replay ran to its end or the user quit, 1 when an op failed.
int RunDebugger(const NamedEntry& entry, LineReader& input, std::ostream& out);

}  // namespace deferred::tools

#endif  // DEFERRED_TOOLS_DEBUGGER_H_
