#include "deferred/nn/rnn.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "deferred/nn/init.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/factories.h"

namespace deferred::nn {

RNNBase::RNNBase(std::string type_name, int64_t gate_multiplier, int64_t input_size,
                 int64_t hidden_size, const RNNOptions& rnn, TensorOptions options)
    : Module(std::move(type_name)), input_size_(input_size), hidden_size_(hidden_size), rnn_(rnn) {
  const std::string& layer = this->type_name();
  if (input_size <= 0 || hidden_size <= 0 || rnn.num_layers <= 0) {
    ThrowError("%s: input_size, hidden_size and num_layers must be greater than zero, got "
               "input_size=%d, hidden_size=%d and num_layers=%d",
               layer, input_size, hidden_size, rnn.num_layers);
  }
  if (!(rnn.dropout >= 0.0 && rnn.dropout <= 1.0)) {
    ThrowError("%s: dropout should be a number in range [0, 1] representing the probability "
               "of an element being zeroed, got %g",
               layer, rnn.dropout);
  }
  if (rnn.proj_size != 0 && layer != "LSTM") {
    ThrowError("%s: proj_size is only supported for LSTM, got proj_size=%d", layer,
               rnn.proj_size);
  }
  if (rnn.proj_size < 0 || rnn.proj_size >= hidden_size) {
    ThrowError("%s: proj_size must be 0 (no projection) or in [1, hidden_size), got "
               "proj_size=%d and hidden_size=%d",
               layer, rnn.proj_size, hidden_size);
  }
  const int64_t gate_size = gate_multiplier * hidden_size;
  const int64_t directions = rnn.bidirectional ? 2 : 1;
  const int64_t real_hidden_size = rnn.proj_size > 0 ? rnn.proj_size : hidden_size;
  for (int64_t layer_index = 0; layer_index < rnn.num_layers; ++layer_index) {
    for (int64_t direction = 0; direction < directions; ++direction) {
      const int64_t layer_input_size =
          layer_index == 0 ? input_size : real_hidden_size * directions;
      const std::string suffix = absl::StrCat("_l", layer_index, direction == 1 ? "_reverse" : "");
      auto add = [&](const std::string& prefix, Shape sizes) {
        const std::string name = absl::StrCat(prefix, suffix);
        register_parameter(name, empty(sizes, options));
        flat_weight_names_.push_back(name);
      };
      add("weight_ih", {gate_size, layer_input_size});
      add("weight_hh", {gate_size, real_hidden_size});
      if (rnn.bias) {
        add("bias_ih", {gate_size});
        add("bias_hh", {gate_size});
      }
      if (rnn.proj_size > 0) add("weight_hr", {rnn.proj_size, hidden_size});
    }
  }
  reset_parameters();
}

void RNNBase::reset_parameters() {
  const double stdv = 1.0 / std::sqrt(static_cast<double>(hidden_size_));
  for (const std::string& name : flat_weight_names_) init::uniform_(parameter(name), -stdv, stdv);
}

LSTM::LSTM(int64_t input_size, int64_t hidden_size, const RNNOptions& rnn, TensorOptions options)
    : RNNBase("LSTM", 4, input_size, hidden_size, rnn, options) {}

GRU::GRU(int64_t input_size, int64_t hidden_size, const RNNOptions& rnn, TensorOptions options)
    : RNNBase("GRU", 3, input_size, hidden_size, rnn, options) {}

}  // namespace deferred::nn
