#include "examples/models/llama.h"

#include "deferred/nn/containers.h"
#include "deferred/nn/embedding.h"
#include "deferred/nn/linear.h"
#include "deferred/nn/normalization.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/shape_ops.h"

namespace deferred::examples {
namespace {

constexpr double kInitStd = 0.02;

// Holds the rotary embedding's inverse frequencies, computed from the config.
class RotaryEmbedding : public nn::Module {
 public:
  explicit RotaryEmbedding(const LlamaConfig& config) : Module("RotaryEmbedding") {
    const int64_t head_dim = config.head_dim();
    const Tensor exponents = div(arange(0, head_dim, 2), head_dim);  // int64 / int: float32
    const Tensor base = full(exponents.sizes(), config.rope_theta);
    register_buffer("inv_freq", div(ones(exponents.sizes()), pow(base, exponents)),
                    /*persistent=*/false);
  }
};

}  // namespace

LlamaConfig LlamaConfig::Llama70B() {
  return LlamaConfig{.vocab_size = 32000,
                     .dim = 8192,
                     .n_layers = 80,
                     .n_heads = 64,
                     .n_kv_heads = 8,
                     .ffn_dim = 28672,
                     .max_seq_len = 4096};
}

LlamaConfig LlamaConfig::Tiny() {
  return LlamaConfig{.vocab_size = 64,
                     .dim = 16,
                     .n_layers = 2,
                     .n_heads = 4,
                     .n_kv_heads = 2,
                     .ffn_dim = 24,
                     .max_seq_len = 8};
}

LlamaAttention::LlamaAttention(const LlamaConfig& config) : Module("LlamaAttention") {
  if (config.dim % config.n_heads != 0 || config.n_heads % config.n_kv_heads != 0) {
    ThrowError("LlamaAttention: dim %d must be a multiple of n_heads %d, and n_heads a "
               "multiple of n_kv_heads %d",
               config.dim, config.n_heads, config.n_kv_heads);
  }
  const int64_t head_dim = config.head_dim();
  make_module<nn::Linear>("q_proj", config.dim, config.n_heads * head_dim,
                          nn::LinearOptions{.bias = false});
  make_module<nn::Linear>("k_proj", config.dim, config.n_kv_heads * head_dim,
                          nn::LinearOptions{.bias = false});
  make_module<nn::Linear>("v_proj", config.dim, config.n_kv_heads * head_dim,
                          nn::LinearOptions{.bias = false});
  make_module<nn::Linear>("o_proj", config.n_heads * head_dim, config.dim,
                          nn::LinearOptions{.bias = false});
}

LlamaMlp::LlamaMlp(const LlamaConfig& config) : Module("LlamaMlp") {
  make_module<nn::Linear>("gate_proj", config.dim, config.ffn_dim,
                          nn::LinearOptions{.bias = false});
  make_module<nn::Linear>("up_proj", config.dim, config.ffn_dim, nn::LinearOptions{.bias = false});
  make_module<nn::Linear>("down_proj", config.ffn_dim, config.dim,
                          nn::LinearOptions{.bias = false});
}

LlamaDecoderLayer::LlamaDecoderLayer(const LlamaConfig& config) : Module("LlamaDecoderLayer") {
  make_module<nn::RMSNorm>("input_layernorm", Shape{config.dim},
                           nn::RMSNormOptions{.eps = config.norm_eps});
  make_module<LlamaAttention>("self_attn", config);
  make_module<nn::RMSNorm>("post_attention_layernorm", Shape{config.dim},
                           nn::RMSNormOptions{.eps = config.norm_eps});
  make_module<LlamaMlp>("mlp", config);
}

Llama::Llama(const LlamaConfig& config) : Module("Llama"), config_(config) {
  make_module<nn::Embedding>("embed_tokens", config.vocab_size, config.dim);
  auto layers = make_module<nn::ModuleList>("layers");
  for (int64_t i = 0; i < config.n_layers; ++i) layers->emplace_back<LlamaDecoderLayer>(config);
  make_module<nn::RMSNorm>("norm", Shape{config.dim}, nn::RMSNormOptions{.eps = config.norm_eps});
  make_module<nn::Linear>("lm_head", config.dim, config.vocab_size,
                          nn::LinearOptions{.bias = false});
  make_module<RotaryEmbedding>("rotary", config);
  register_buffer("causal_mask",
                  to(tril(ones({config.max_seq_len, config.max_seq_len})), DType::kBool),
                  /*persistent=*/false);

  apply([](nn::Module& m) {
    if (auto* linear = dynamic_cast<nn::Linear*>(&m)) {
      normal_(linear->weight(), 0.0, kInitStd);
    } else if (auto* embedding = dynamic_cast<nn::Embedding*>(&m)) {
      normal_(embedding->weight(), 0.0, kInitStd);
    }
  });
}

std::vector<TensorParallelRule> LlamaTensorParallelRules() {
  using Style = TensorParallelStyle;
  return {
      {"layers.*.self_attn.[qkv]_proj", Style::kColumnwise},
      {"layers.*.self_attn.o_proj", Style::kRowwise},
      {"layers.*.mlp.gate_proj", Style::kColumnwise},
      {"layers.*.mlp.up_proj", Style::kColumnwise},
      {"layers.*.mlp.down_proj", Style::kRowwise},
      {"embed_tokens", Style::kColumnwise},
      {"lm_head", Style::kColumnwise},
  };
}

}  // namespace deferred::examples
