#ifndef DEFERRED_DEFERRED_NN_ATTENTION_H_
#define DEFERRED_DEFERRED_NN_ATTENTION_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "deferred/nn/linear.h"
#include "deferred/nn/module.h"
#include "fake_tensor/ops/tensor_options.h"

namespace deferred::nn {

// What nn.MultiheadAttention takes besides embed_dim and num_heads (PyTorch's defaults).
struct MultiheadAttentionOptions {
  double dropout = 0.0;
  bool bias = true;
  bool add_bias_kv = false;
  bool add_zero_attn = false;
  // Key and value feature sizes; unset means embed_dim.
  std::optional<int64_t> kdim;
  std::optional<int64_t> vdim;
  bool batch_first = false;
};

// PyTorch's nn.MultiheadAttention, with its tensors in PyTorch's order:
// - in_proj_weight [3E, E] when kdim == vdim == E, else q_proj_weight [E, E],
//   k_proj_weight [E, kdim] and v_proj_weight [E, vdim] (the others registered undefined);
// - in_proj_bias [3E] with bias (else undefined);
// - out_proj, a Linear(E, E, bias), constructed (and so initialized) before the above are;
// - bias_k and bias_v [1, 1, E] with add_bias_kv (else undefined).
// Throws `Error` naming the values unless embed_dim and num_heads are positive, num_heads
// divides embed_dim, kdim and vdim are positive and 0 <= dropout <= 1.
class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t num_heads,
                     const MultiheadAttentionOptions& attention = {}, TensorOptions options = {});

  // PyTorch's _reset_parameters: xavier_uniform_ on the input projection weights, zeros
  // for in_proj_bias and out_proj.bias, xavier_normal_ on bias_k and bias_v. out_proj's
  // weight keeps its Linear initialization, as in PyTorch (apply(reset_parameters)
  // re-initializes out_proj first, since children come first, and so matches construction).
  void reset_parameters() override;

  int64_t embed_dim() const { return embed_dim_; }
  int64_t num_heads() const { return num_heads_; }
  int64_t head_dim() const { return embed_dim_ / num_heads_; }
  int64_t kdim() const { return kdim_; }
  int64_t vdim() const { return vdim_; }
  // True when kdim == vdim == embed_dim: one packed in_proj_weight.
  bool qkv_same_embed_dim() const { return kdim_ == embed_dim_ && vdim_ == embed_dim_; }
  const MultiheadAttentionOptions& options() const { return attention_; }
  const std::shared_ptr<Linear>& out_proj() const { return out_proj_; }

 private:
  int64_t embed_dim_;
  int64_t num_heads_;
  int64_t kdim_;
  int64_t vdim_;
  MultiheadAttentionOptions attention_;
  std::shared_ptr<Linear> out_proj_;
};

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_ATTENTION_H_
