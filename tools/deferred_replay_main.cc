#include "tools/replay_tool.h"

int main(int argc, char** argv) { return deferred::tools::ReplayToolMain(argc, argv); }
