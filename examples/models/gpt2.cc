#include "examples/models/gpt2.h"

#include <cmath>
#include <string>

#include "absl/strings/match.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/random.h"

namespace deferred::examples {
namespace {

constexpr double kInitStd = 0.02;

// The part of GPT-2 nanoGPT calls `transformer`.
class Gpt2Transformer : public nn::Module {
 public:
  explicit Gpt2Transformer(const Gpt2Config& config) : Module("Gpt2Transformer") {
    make_module<nn::Embedding>("wte", config.vocab_size, config.n_embd);
    make_module<nn::Embedding>("wpe", config.block_size, config.n_embd);
    auto blocks = make_module<nn::ModuleList>("h");
    for (int64_t i = 0; i < config.n_layer; ++i) blocks->emplace_back<Gpt2Block>(config);
    make_module<nn::LayerNorm>("ln_f", Shape{config.n_embd},
                               nn::LayerNormOptions{.bias = config.bias});
  }
};

}  // namespace

Gpt2Config Gpt2Config::Tiny() {
  return Gpt2Config{.vocab_size = 64, .block_size = 16, .n_layer = 2, .n_head = 2, .n_embd = 8};
}

Gpt2Attention::Gpt2Attention(const Gpt2Config& config) : Module("Gpt2Attention") {
  make_module<nn::Linear>("c_attn", config.n_embd, 3 * config.n_embd,
                          nn::LinearOptions{.bias = config.bias});
  make_module<nn::Linear>("c_proj", config.n_embd, config.n_embd,
                          nn::LinearOptions{.bias = config.bias});
}

Gpt2Mlp::Gpt2Mlp(const Gpt2Config& config) : Module("Gpt2Mlp") {
  make_module<nn::Linear>("c_fc", config.n_embd, 4 * config.n_embd,
                          nn::LinearOptions{.bias = config.bias});
  make_module<nn::Linear>("c_proj", 4 * config.n_embd, config.n_embd,
                          nn::LinearOptions{.bias = config.bias});
}

Gpt2Block::Gpt2Block(const Gpt2Config& config) : Module("Gpt2Block") {
  make_module<nn::LayerNorm>("ln_1", Shape{config.n_embd},
                             nn::LayerNormOptions{.bias = config.bias});
  make_module<Gpt2Attention>("attn", config);
  make_module<nn::LayerNorm>("ln_2", Shape{config.n_embd},
                             nn::LayerNormOptions{.bias = config.bias});
  make_module<Gpt2Mlp>("mlp", config);
}

Gpt2::Gpt2(const Gpt2Config& config) : Module("Gpt2"), config_(config) {
  auto transformer = make_module<Gpt2Transformer>("transformer", config);
  auto lm_head = make_module<nn::Linear>("lm_head", config.n_embd, config.vocab_size,
                                         nn::LinearOptions{.bias = false});
  // Weight tying: the token embedding is the output head's weight.
  std::dynamic_pointer_cast<nn::Embedding>(transformer->child("wte"))
      ->set_parameter("weight", lm_head->weight());

  apply([](nn::Module& m) {
    if (auto* linear = dynamic_cast<nn::Linear*>(&m)) {
      normal_(linear->weight(), 0.0, kInitStd);
      for (const auto& [name, bias] : linear->named_parameters()) {
        if (name == "bias") zero_(bias);
      }
    } else if (auto* embedding = dynamic_cast<nn::Embedding*>(&m)) {
      normal_(embedding->weight(), 0.0, kInitStd);
    }
  });
  const double residual_std = kInitStd / std::sqrt(2.0 * static_cast<double>(config.n_layer));
  for (const auto& [name, parameter] : named_parameters()) {
    if (absl::EndsWith(name, "c_proj.weight")) normal_(parameter, 0.0, residual_std);
  }
}

}  // namespace deferred::examples
