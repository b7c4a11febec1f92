#include "deferred/nn/attention.h"

#include "deferred/nn/init.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/factories.h"

namespace deferred::nn {

MultiheadAttention::MultiheadAttention(int64_t embed_dim, int64_t num_heads,
                                       const MultiheadAttentionOptions& attention,
                                       TensorOptions options)
    : Module("MultiheadAttention"),
      embed_dim_(embed_dim),
      num_heads_(num_heads),
      kdim_(attention.kdim.value_or(embed_dim)),
      vdim_(attention.vdim.value_or(embed_dim)),
      attention_(attention) {
  if (embed_dim <= 0 || num_heads <= 0) {
    ThrowError("MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
               "embed_dim=%d and num_heads=%d",
               embed_dim, num_heads);
  }
  if (embed_dim % num_heads != 0) {
    ThrowError("MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim=%d "
               "and num_heads=%d",
               embed_dim, num_heads);
  }
  if (kdim_ <= 0 || vdim_ <= 0) {
    ThrowError("MultiheadAttention: kdim and vdim must be greater than 0, got kdim=%d and "
               "vdim=%d",
               kdim_, vdim_);
  }
  if (!(attention.dropout >= 0.0 && attention.dropout <= 1.0)) {
    ThrowError("MultiheadAttention: dropout probability has to be between 0 and 1, but got %g",
               attention.dropout);
  }
  // Registration order and the RNG order both follow PyTorch's __init__: the projection
  // tensors are created empty, out_proj is constructed (drawing its Linear init), and only
  // then does reset_parameters draw the rest.
  if (qkv_same_embed_dim()) {
    register_parameter("in_proj_weight", empty({3 * embed_dim, embed_dim}, options));
    register_parameter("q_proj_weight", Tensor());
    register_parameter("k_proj_weight", Tensor());
    register_parameter("v_proj_weight", Tensor());
  } else {
    register_parameter("q_proj_weight", empty({embed_dim, embed_dim}, options));
    register_parameter("k_proj_weight", empty({embed_dim, kdim_}, options));
    register_parameter("v_proj_weight", empty({embed_dim, vdim_}, options));
    register_parameter("in_proj_weight", Tensor());
  }
  register_parameter("in_proj_bias", attention.bias ? empty({3 * embed_dim}, options) : Tensor());
  out_proj_ = make_module<Linear>("out_proj", embed_dim, embed_dim,
                                  LinearOptions{.bias = attention.bias}, options);
  const Shape bias_kv_sizes = {1, 1, embed_dim};
  register_parameter("bias_k", attention.add_bias_kv ? empty(bias_kv_sizes, options) : Tensor());
  register_parameter("bias_v", attention.add_bias_kv ? empty(bias_kv_sizes, options) : Tensor());
  reset_parameters();
}

void MultiheadAttention::reset_parameters() {
  if (qkv_same_embed_dim()) {
    init::xavier_uniform_(parameter("in_proj_weight"));
  } else {
    init::xavier_uniform_(parameter("q_proj_weight"));
    init::xavier_uniform_(parameter("k_proj_weight"));
    init::xavier_uniform_(parameter("v_proj_weight"));
  }
  if (parameter("in_proj_bias").defined()) {
    init::constant_(parameter("in_proj_bias"), 0.0);
    init::constant_(out_proj_->bias(), 0.0);
  }
  if (parameter("bias_k").defined()) init::xavier_normal_(parameter("bias_k"));
  if (parameter("bias_v").defined()) init::xavier_normal_(parameter("bias_v"));
}

}  // namespace deferred::nn
