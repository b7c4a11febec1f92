#ifndef DEFERRED_EXAMPLES_MODELS_MAMBA_H_
#define DEFERRED_EXAMPLES_MODELS_MAMBA_H_

#include <cstdint>

#include "deferred/nn/module.h"

namespace deferred::examples {

// Mamba as in the reference implementation (mamba_ssm: Mamba, Block, MixerModel,
// MambaLMHeadModel and _init_weights), with RMSNorm and the default "random" dt init.
struct MambaConfig {
  int64_t d_model = 768;
  int64_t n_layer = 24;
  int64_t vocab_size = 50280;
  int64_t d_state = 16;
  int64_t d_conv = 4;
  int64_t expand = 2;
  double dt_min = 0.001;
  double dt_max = 0.1;
  double dt_init_floor = 1e-4;
  double initializer_range = 0.02;

  // Mamba-130m: 24 layers of d_model 768.
  static MambaConfig Mamba130M();
  // A few layers of a few dims: for tests.
  static MambaConfig Tiny();

  int64_t d_inner() const { return expand * d_model; }
  int64_t dt_rank() const { return (d_model + 15) / 16; }
};

// The selective-state-space mixer: in_proj [2 d_inner, d_model] (no bias), a depthwise
// conv1d over d_conv steps, x_proj [dt_rank + 2 d_state, d_inner] (no bias), dt_proj
// [d_inner, dt_rank] uniform in +-dt_rank^-0.5 with a bias that is the inverse softplus of
// dt = exp(U(log dt_min, log dt_max)) clamped below at dt_init_floor, A_log =
// log([1..d_state] repeated for each of d_inner rows), D = ones, out_proj [d_model,
// d_inner] (no bias).
class MambaMixer : public nn::Module {
 public:
  explicit MambaMixer(const MambaConfig& config);
};

// backbone.embedding, backbone.layers.<i>.{norm, mixer}, backbone.norm_f, lm_head (tied
// to the embedding). After construction, _init_weights: Linear biases zeroed except
// dt_proj's, the embedding re-drawn from N(0, initializer_range), and every out_proj
// weight re-drawn by kaiming_uniform_(a = sqrt(5)) and divided by sqrt(n_layer).
class Mamba : public nn::Module {
 public:
  explicit Mamba(const MambaConfig& config);
};

}  // namespace deferred::examples

#endif  // DEFERRED_EXAMPLES_MODELS_MAMBA_H_
