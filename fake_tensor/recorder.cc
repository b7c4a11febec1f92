#include "fake_tensor/recorder.h"

namespace deferred {

std::vector<Tensor> RecordingMode::Run(OpCall& call) {
  if (call.def->kind == OpKind::kFactory) return recorder_->Record(call);
  return RunEager(call);
}

RecordingMode* CurrentRecordingMode() {
  return dynamic_cast<RecordingMode*>(CurrentDispatchMode());
}

}  // namespace deferred
