#include "examples/models/whisper.h"

#include <cmath>

#include "deferred/nn/containers.h"
#include "deferred/nn/conv.h"
#include "deferred/nn/linear.h"
#include "deferred/nn/normalization.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/shape_ops.h"

namespace deferred::examples {
namespace {

class WhisperAttention : public nn::Module {
 public:
  explicit WhisperAttention(int64_t n_state) : Module("MultiHeadAttention") {
    make_module<nn::Linear>("query", n_state, n_state);
    make_module<nn::Linear>("key", n_state, n_state, nn::LinearOptions{.bias = false});
    make_module<nn::Linear>("value", n_state, n_state);
    make_module<nn::Linear>("out", n_state, n_state);
  }
};

// GELU has no parameters; it holds the place "mlp.1" in the reference's Sequential.
class Gelu : public nn::Module {
 public:
  Gelu() : Module("GELU") {}
};

class ResidualAttentionBlock : public nn::Module {
 public:
  explicit ResidualAttentionBlock(int64_t n_state) : Module("ResidualAttentionBlock") {
    make_module<WhisperAttention>("attn", n_state);
    make_module<nn::LayerNorm>("attn_ln", Shape{n_state});
    auto mlp = make_module<nn::Sequential>("mlp");
    mlp->emplace_back<nn::Linear>(n_state, 4 * n_state);
    mlp->emplace_back<Gelu>();
    mlp->emplace_back<nn::Linear>(4 * n_state, n_state);
    make_module<nn::LayerNorm>("mlp_ln", Shape{n_state});
  }
};

}  // namespace

WhisperEncoderConfig WhisperEncoderConfig::WhisperTiny() { return WhisperEncoderConfig{}; }

WhisperEncoderConfig WhisperEncoderConfig::Tiny() {
  return WhisperEncoderConfig{
      .n_mels = 8, .n_audio_ctx = 12, .n_audio_state = 16, .n_audio_head = 2, .n_audio_layer = 2};
}

Tensor Sinusoids(int64_t length, int64_t channels, double max_timescale, CallSite site) {
  if (channels % 2 != 0 || channels < 4) {
    ThrowError("Sinusoids: channels must be even and at least 4, got %d", channels);
  }
  const double log_timescale_increment =
      std::log(max_timescale) / static_cast<double>(channels / 2 - 1);
  const Tensor inv_timescales = (arange(channels / 2, {}, site) * -log_timescale_increment).exp();
  const Tensor scaled_time = arange(length, {}, site).unsqueeze(1) * inv_timescales.unsqueeze(0);
  return cat({scaled_time.sin(), scaled_time.cos()}, 1, site);
}

WhisperEncoder::WhisperEncoder(const WhisperEncoderConfig& config) : Module("AudioEncoder") {
  const int64_t n_state = config.n_audio_state;
  if (config.n_audio_head <= 0 || n_state % config.n_audio_head != 0) {
    ThrowError("WhisperEncoder: n_audio_state %d is not a multiple of n_audio_head %d", n_state,
               config.n_audio_head);
  }
  make_module<nn::Conv1d>("conv1", config.n_mels, n_state, 3, nn::ConvOptions{.padding = 1});
  make_module<nn::Conv1d>("conv2", n_state, n_state, 3,
                          nn::ConvOptions{.stride = 2, .padding = 1});
  register_buffer("positional_embedding", Sinusoids(config.n_audio_ctx, n_state));
  auto blocks = make_module<nn::ModuleList>("blocks");
  for (int64_t i = 0; i < config.n_audio_layer; ++i) {
    blocks->emplace_back<ResidualAttentionBlock>(n_state);
  }
  make_module<nn::LayerNorm>("ln_post", Shape{n_state});
}

}  // namespace deferred::examples
