#ifndef DEFERRED_TOOLS_REPLAY_TOOL_H_
#define DEFERRED_TOOLS_REPLAY_TOOL_H_

namespace deferred::tools {

// deferred-replay: inspect, draw, step through, verify, diff and export saved traces.
// `deferred-replay --help` lists the subcommands; docs/REPLAY_TOOL.md shows a session.
// Returns the exit status: 0 ok, 1 a check failed (verify, a non-finite value, a failing
// op, a difference), 2 a usage error, 3 an input that cannot be read.
int ReplayToolMain(int argc, char** argv);

}  // namespace deferred::tools

#endif  // DEFERRED_TOOLS_REPLAY_TOOL_H_
