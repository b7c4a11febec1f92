#include "examples/models/mamba.h"

#include <cmath>
#include <limits>
#include <set>

#include "deferred/nn/containers.h"
#include "deferred/nn/conv.h"
#include "deferred/nn/embedding.h"
#include "deferred/nn/init.h"
#include "deferred/nn/linear.h"
#include "deferred/nn/normalization.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"

namespace deferred::examples {
namespace {

// A layer: the pre-norm and the mixer (mamba_ssm's Block, without the residual's state).
class MambaBlock : public nn::Module {
 public:
  explicit MambaBlock(const MambaConfig& config) : Module("MambaBlock") {
    make_module<MambaMixer>("mixer", config);
    make_module<nn::RMSNorm>("norm", Shape{config.d_model}, nn::RMSNormOptions{.eps = 1e-5});
  }
};

class MixerModel : public nn::Module {
 public:
  explicit MixerModel(const MambaConfig& config) : Module("MixerModel") {
    make_module<nn::Embedding>("embedding", config.vocab_size, config.d_model);
    auto layers = make_module<nn::ModuleList>("layers");
    for (int64_t i = 0; i < config.n_layer; ++i) layers->emplace_back<MambaBlock>(config);
    make_module<nn::RMSNorm>("norm_f", Shape{config.d_model}, nn::RMSNormOptions{.eps = 1e-5});
  }
};

// mamba_ssm's _init_weights over every module of `root`, children first.
void InitWeights(nn::Module& root, const MambaConfig& config) {
  // dt_proj's bias is marked _no_reinit: it keeps its inverse softplus.
  std::set<const nn::Module*> no_reinit;
  root.apply([&](nn::Module& m) {
    if (dynamic_cast<MambaMixer*>(&m) != nullptr) no_reinit.insert(m.child("dt_proj").get());
  });
  const double residual_scale = std::sqrt(static_cast<double>(config.n_layer));
  root.apply([&](nn::Module& m) {
    if (auto* linear = dynamic_cast<nn::Linear*>(&m)) {
      if (linear->bias().defined() && !no_reinit.contains(linear)) nn::init::zeros_(linear->bias());
    } else if (auto* embedding = dynamic_cast<nn::Embedding*>(&m)) {
      nn::init::normal_(embedding->weight(), 0.0, config.initializer_range);
    }
    for (const auto& [name, p] : m.named_parameters()) {
      if (name == "out_proj.weight" || name == "fc2.weight") {
        nn::init::kaiming_uniform_(p, std::sqrt(5.0));
        p.div_(residual_scale);
      }
    }
  });
}

}  // namespace

MambaConfig MambaConfig::Mamba130M() { return MambaConfig{}; }

MambaConfig MambaConfig::Tiny() {
  return MambaConfig{.d_model = 16, .n_layer = 2, .vocab_size = 64, .d_state = 4};
}

MambaMixer::MambaMixer(const MambaConfig& config) : Module("Mamba") {
  const int64_t d_inner = config.d_inner();
  const int64_t dt_rank = config.dt_rank();
  make_module<nn::Linear>("in_proj", config.d_model, 2 * d_inner, nn::LinearOptions{.bias = false});
  make_module<nn::Conv1d>("conv1d", d_inner, d_inner, config.d_conv,
                          nn::ConvOptions{.padding = config.d_conv - 1, .groups = d_inner});
  make_module<nn::Linear>("x_proj", d_inner, dt_rank + 2 * config.d_state,
                          nn::LinearOptions{.bias = false});
  auto dt_proj = make_module<nn::Linear>("dt_proj", dt_rank, d_inner);

  const double dt_init_std = 1.0 / std::sqrt(static_cast<double>(dt_rank));
  dt_proj->weight().uniform_(-dt_init_std, dt_init_std);
  const Tensor dt = (rand({d_inner}) * (std::log(config.dt_max) - std::log(config.dt_min)) +
                     std::log(config.dt_min))
                        .exp()
                        .clamp(config.dt_init_floor, std::numeric_limits<double>::infinity());
  // The inverse of softplus: dt + log(-expm1(-dt)).
  const Tensor inv_dt = dt + (-(-dt).expm1()).log();
  dt_proj->bias().copy_(inv_dt);

  const Tensor a = arange(1, config.d_state + 1, 1, {.dtype = DType::kFloat32})
                       .repeat({d_inner, 1})
                       .contiguous();
  register_parameter("A_log", a.log());
  register_parameter("D", ones({d_inner}));
  make_module<nn::Linear>("out_proj", d_inner, config.d_model, nn::LinearOptions{.bias = false});
}

Mamba::Mamba(const MambaConfig& config) : Module("MambaLMHeadModel") {
  auto backbone = make_module<MixerModel>("backbone", config);
  auto lm_head = make_module<nn::Linear>("lm_head", config.d_model, config.vocab_size,
                                         nn::LinearOptions{.bias = false});
  // The reference applies _init_weights at the end of MixerModel's constructor and again
  // over the whole model, then ties the head to the embedding.
  InitWeights(*backbone, config);
  InitWeights(*this, config);
  lm_head->set_parameter("weight", backbone->child("embedding")->parameter("weight"));
}

}  // namespace deferred::examples
