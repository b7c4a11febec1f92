#ifndef DEFERRED_DEFERRED_NN_RNN_H_
#define DEFERRED_DEFERRED_NN_RNN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "deferred/nn/module.h"
#include "fake_tensor/ops/tensor_options.h"

namespace deferred::nn {

// What LSTM and GRU take besides input_size and hidden_size (PyTorch's defaults).
struct RNNOptions {
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;
  double dropout = 0.0;
  bool bidirectional = false;
  // LSTM only: size of the projected hidden state (0 disables the projection).
  int64_t proj_size = 0;
};

// PyTorch's RNNBase: for each layer k and direction (suffix "_reverse" for the second),
// in this order: weight_ih_l{k} [G * hidden, layer input], weight_hh_l{k} [G * hidden,
// hidden or proj_size], with bias bias_ih_l{k} and bias_hh_l{k} [G * hidden], with a
// projection weight_hr_l{k} [proj_size, hidden]; G is the gate multiplier (4 for LSTM, 3
// for GRU) and a layer's input is input_size for layer 0, else (proj_size or hidden) times
// the number of directions. Every weight, in that order, is uniform in
// +-1/sqrt(hidden_size).
class RNNBase : public Module {
 public:
  void reset_parameters() override;

  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  const RNNOptions& options() const { return rnn_; }
  // The names of the weights, in registration (and initialization) order.
  const std::vector<std::string>& flat_weight_names() const { return flat_weight_names_; }

 protected:
  // Throws `Error` naming the layer and values unless input_size, hidden_size and
  // num_layers are positive, 0 <= dropout <= 1 and 0 <= proj_size < hidden_size
  // (proj_size must be 0 unless `type_name` is "LSTM").
  RNNBase(std::string type_name, int64_t gate_multiplier, int64_t input_size,
          int64_t hidden_size, const RNNOptions& rnn, TensorOptions options);

 private:
  int64_t input_size_;
  int64_t hidden_size_;
  RNNOptions rnn_;
  std::vector<std::string> flat_weight_names_;
};

// nn.LSTM: four gates (input, forget, cell, output) per weight row block.
class LSTM : public RNNBase {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, const RNNOptions& rnn = {},
       TensorOptions options = {});
};

// nn.GRU: three gates (reset, update, new) per weight row block; no projection.
class GRU : public RNNBase {
 public:
  GRU(int64_t input_size, int64_t hidden_size, const RNNOptions& rnn = {},
      TensorOptions options = {});
};

}  // namespace deferred::nn

#endif  // DEFERRED_DEFERRED_NN_RNN_H_
