#ifndef DEFERRED_EXAMPLES_MODELS_LLAMA_H_
#define DEFERRED_EXAMPLES_MODELS_LLAMA_H_

#include <cstdint>

#include <vector>

#include "deferred/nn/module.h"
#include "deferred/shard_plan.h"

namespace deferred::examples {

// A Llama-style decoder: RMSNorm, grouped-query attention, a SwiGLU feed-forward, a rotary
// `inv_freq` buffer computed in the constructor with arange and pow, and a causal-mask
// buffer from tril(ones).
struct LlamaConfig {
  int64_t vocab_size = 32000;
  int64_t dim = 4096;
  int64_t n_layers = 32;
  int64_t n_heads = 32;
  int64_t n_kv_heads = 8;
  int64_t ffn_dim = 11008;
  int64_t max_seq_len = 2048;
  double rope_theta = 10000.0;
  double norm_eps = 1e-5;

  // Llama 2 70B: 80 layers, d_model 8192, ffn 28672, 64 heads, 8 kv heads.
  static LlamaConfig Llama70B();
  // A few layers of a few dims: for tests.
  static LlamaConfig Tiny();

  int64_t head_dim() const { return dim / n_heads; }
};

// q_proj [n_heads * head_dim, dim], k_proj and v_proj [n_kv_heads * head_dim, dim],
// o_proj [dim, n_heads * head_dim], all without bias. Throws `Error` when dim is not a
// multiple of n_heads or n_heads not a multiple of n_kv_heads.
class LlamaAttention : public nn::Module {
 public:
  explicit LlamaAttention(const LlamaConfig& config);
};

// gate_proj and up_proj [ffn_dim, dim], down_proj [dim, ffn_dim].
class LlamaMlp : public nn::Module {
 public:
  explicit LlamaMlp(const LlamaConfig& config);
};

class LlamaDecoderLayer : public nn::Module {
 public:
  explicit LlamaDecoderLayer(const LlamaConfig& config);
};

// embed_tokens, layers.<i>.{input_layernorm, self_attn, post_attention_layernorm, mlp},
// norm, lm_head; non-persistent buffers rotary.inv_freq = 1 / theta^(2i / head_dim) and
// causal_mask = tril(ones(max_seq_len, max_seq_len)) as bool. Every Linear and Embedding
// weight is re-drawn from N(0, 0.02) after construction (the reference initializer).
class Llama : public nn::Module {
 public:
  explicit Llama(const LlamaConfig& config);

  const LlamaConfig& config() const { return config_; }

 private:
  LlamaConfig config_;
};

// Megatron-LM's tensor parallelism for Llama: q_proj, k_proj, v_proj, gate_proj and
// up_proj column-wise, o_proj and down_proj row-wise, embed_tokens and lm_head split over
// the vocabulary; the norms replicated.
std::vector<TensorParallelRule> LlamaTensorParallelRules();

}  // namespace deferred::examples

#endif  // DEFERRED_EXAMPLES_MODELS_LLAMA_H_
