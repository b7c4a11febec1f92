#include "fake_tensor/recorder.h"

namespace deferred {

std::vector<Tensor> RecordingMode::Run(OpCall& call) {
  // A meta factory stays meta: the user asked for a tensor that is only a shape.
  if (call.def->kind == OpKind::kFactory && !OutputDevice(call).is_meta()) {
    return recorder_->Record(call);
  }
  return RunEager(call);
}

RecordingMode* CurrentRecordingMode() {
  return dynamic_cast<RecordingMode*>(CurrentDispatchMode());
}

}  // namespace deferred
