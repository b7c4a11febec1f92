#include "deferred/nn/embedding.h"

#include "deferred/nn/init.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/views.h"

namespace deferred::nn {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim,
                     const EmbeddingOptions& embedding, TensorOptions options)
    : Module("Embedding"), num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {
  if (num_embeddings < 0 || embedding_dim < 0) {
    ThrowError("Embedding: num_embeddings and embedding_dim must be non-negative, got "
               "num_embeddings=%d and embedding_dim=%d",
               num_embeddings, embedding_dim);
  }
  if (const std::optional<int64_t>& padding_idx = embedding.padding_idx) {
    if (*padding_idx >= num_embeddings || *padding_idx < -num_embeddings) {
      ThrowError("Embedding: padding_idx must be within num_embeddings, got padding_idx=%d "
                 "for num_embeddings=%d",
                 *padding_idx, num_embeddings);
    }
    padding_idx_ = *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
  }
  register_parameter("weight", empty({num_embeddings, embedding_dim}, options));
  reset_parameters();
}

void Embedding::reset_parameters() {
  init::normal_(weight());
  // PyTorch's `weight[padding_idx].fill_(0)`: an in-place write through a row view.
  if (padding_idx_.has_value()) fill_(select(weight(), 0, *padding_idx_), 0);
}

}  // namespace deferred::nn
