#ifndef DEFERRED_DEFERRED_NN_EMBEDDING_H_
#define DEFERRED_DEFERRED_NN_EMBEDDING_H_

#include <cstdint>
#include <optional>

#include "deferred/nn/module.h"
#include "fake_tensor/ops/tensor_options.h"

namespace deferred::nn {

// What Embedding takes besides its sizes: `Embedding(vocab, dim, {.padding_idx = 0})`.
struct EmbeddingOptions {
  std::optional<int64_t> padding_idx;
};

// PyTorch's nn.Embedding: weight [num_embeddings, embedding_dim] drawn from N(0, 1), with
// the row `padding_idx` (if any) then zeroed in place through a view of the weight, as
// PyTorch's `weight[padding_idx].fill_(0)` does. A negative padding_idx counts from the
// end and is stored wrapped. Throws `Error` for negative sizes or a padding_idx outside
// [-num_embeddings, num_embeddings).
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, const EmbeddingOptions& embedding = {},
            TensorOptions options = {});

  // weight ~ N(0, 1), then the padding row zeroed.
  void reset_parameters() override;

  int64_t num_embeddings() const { return num_embeddings_; }
  int64_t embedding_dim() const { return embedding_dim_; }
  // In [0, num_embeddings) when set.
  std::optional<int64_t> padding_idx() const { return padding_idx_; }
  const Tensor& weight() const { return parameter("weight"); }

 private:
  int64_t num_embeddings_;
  int64_t embedding_dim_;
  std::optional<int64_t> padding_idx_;
};

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_EMBEDDING_H_
