#ifndef DEFERRED_TESTS_STANDARD_LAYERS_H_
#define DEFERRED_TESTS_STANDARD_LAYERS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deferred/deferred.h"
#include "deferred/nn/attention.h"
#include "deferred/nn/conv.h"
#include "deferred/nn/embedding.h"
#include "deferred/nn/linear.h"
#include "deferred/nn/normalization.h"
#include "deferred/nn/rnn.h"

namespace deferred {

// A small instance of every standard layer, by name: what the model-wide property tests
// (shards, trace files) run on besides the example models.
inline std::vector<std::pair<std::string, ModuleFactory>> StandardLayerFactories() {
  return {
      {"Linear", [] { return std::make_shared<nn::Linear>(12, 10); }},
      {"Bilinear", [] { return std::make_shared<nn::Bilinear>(4, 5, 6); }},
      {"Embedding",
       [] {
         return std::make_shared<nn::Embedding>(10, 6, nn::EmbeddingOptions{.padding_idx = 3});
       }},
      {"LayerNorm",
       [] {
         return std::make_shared<nn::LayerNorm>(Shape{4, 6});
       }},
      {"RMSNorm", [] { return std::make_shared<nn::RMSNorm>(Shape{9}); }},
      {"GroupNorm", [] { return std::make_shared<nn::GroupNorm>(2, 8); }},
      {"Conv1d", [] { return std::make_shared<nn::Conv1d>(4, 6, 3); }},
      {"Conv2d", [] { return std::make_shared<nn::Conv2d>(4, 6, 3); }},
      {"MultiheadAttention", [] { return std::make_shared<nn::MultiheadAttention>(8, 2); }},
      {"LSTM", [] { return std::make_shared<nn::LSTM>(5, 4); }},
      {"GRU", [] { return std::make_shared<nn::GRU>(5, 4); }},
  };
}

}  // namespace deferred

#endif  // DEFERRED_TESTS_STANDARD_LAYERS_H_
