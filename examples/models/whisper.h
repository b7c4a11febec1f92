#ifndef DEFERRED_EXAMPLES_MODELS_WHISPER_H_
#define DEFERRED_EXAMPLES_MODELS_WHISPER_H_

#include <cstdint>

#include "deferred/nn/module.h"
#include "fake_tensor/tensor.h"

namespace deferred::examples {

// Whisper's audio encoder as the reference implementation (openai/whisper, model.py)
// builds it; its layers keep PyTorch's default inits.
struct WhisperEncoderConfig {
  int64_t n_mels = 80;
  int64_t n_audio_ctx = 1500;
  int64_t n_audio_state = 384;
  int64_t n_audio_head = 6;
  int64_t n_audio_layer = 4;

  // whisper "tiny".
  static WhisperEncoderConfig WhisperTiny();
  // A few layers of a few dims: for tests.
  static WhisperEncoderConfig Tiny();
};

// The sinusoidal position table [length, channels]: row t is sin(t * w_i) for the first
// channels / 2 columns and cos(t * w_i) for the rest, w_i = exp(-i * log(max_timescale) /
// (channels / 2 - 1)), as whisper's sinusoids() computes it (float32). Throws `Error`
// unless channels is even and at least 4.
Tensor Sinusoids(int64_t length, int64_t channels, double max_timescale = 10000.0,
                 CallSite site = CallSite::Here());

// conv1 (n_mels -> n_audio_state, kernel 3, padding 1), conv2 (kernel 3, stride 2,
// padding 1), the persistent buffer positional_embedding = Sinusoids(n_audio_ctx,
// n_audio_state), blocks.<i>.{attn.{query, key (no bias), value, out}, attn_ln, mlp.0,
// mlp.2, mlp_ln}, ln_post.
class WhisperEncoder : public nn::Module {
 public:
  explicit WhisperEncoder(const WhisperEncoderConfig& config);
};

}  // namespace deferred::examples

#endif  // DEFERRED_EXAMPLES_MODELS_WHISPER_H_
