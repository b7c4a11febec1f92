#ifndef DEFERRED_EXAMPLES_MODELS_GPT2_H_
#define DEFERRED_EXAMPLES_MODELS_GPT2_H_

#include <cstdint>
#include <memory>

#include "deferred/nn/containers.h"
#include "deferred/nn/embedding.h"
#include "deferred/nn/linear.h"
#include "deferred/nn/module.h"
#include "deferred/nn/normalization.h"

namespace deferred::examples {

// GPT-2 as in the reference implementation (nanoGPT's model.py), initialization included.
struct Gpt2Config {
  int64_t vocab_size = 50257;
  int64_t block_size = 1024;
  int64_t n_layer = 12;
  int64_t n_head = 12;
  int64_t n_embd = 768;
  bool bias = true;

  // A few layers of a few dims: for tests.
  static Gpt2Config Tiny();
};

class Gpt2Attention : public nn::Module {
 public:
  explicit Gpt2Attention(const Gpt2Config& config);
};

class Gpt2Mlp : public nn::Module {
 public:
  explicit Gpt2Mlp(const Gpt2Config& config);
};

class Gpt2Block : public nn::Module {
 public:
  explicit Gpt2Block(const Gpt2Config& config);
};

// Parameters named as nanoGPT names them: transformer.wte.weight, transformer.wpe.weight,
// transformer.h.<i>.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}.*,
// transformer.ln_f.*, lm_head.weight. The token embedding and the output head share one
// tensor. After construction every Linear and Embedding weight is re-drawn from
// N(0, 0.02), biases zeroed, and every residual projection (c_proj.weight) re-drawn from
// N(0, 0.02 / sqrt(2 * n_layer)).
class Gpt2 : public nn::Module {
 public:
  explicit Gpt2(const Gpt2Config& config);

  const Gpt2Config& config() const { return config_; }

 private:
  Gpt2Config config_;
};

}  // namespace deferred::examples

#endif  // DEFERRED_EXAMPLES_MODELS_GPT2_H_
