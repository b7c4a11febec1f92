#!/usr/bin/env python3
"""The PyTorch side of benchmarks/checkpoint_memory.sh (Debian's python3-torch, 1.13):

  torch_checkpoint.py convert FILE.safetensors FILE.pt   the same weights, as torch.save
  torch_checkpoint.py load FILE.pt                       build the same Llama-style model
      eagerly (its initialization included) and load_state_dict(torch.load(FILE.pt)):
      prints "torch seconds=S peak_rss=R model_bytes=M" like checkpoint_memory does.
"""
import json, resource, struct, sys, time

import torch
from torch import nn

# benchmarks/checkpoint_memory.cc's Config().
VOCAB, DIM, LAYERS, HEADS, KV_HEADS, FFN, SEQ = 32000, 1536, 8, 12, 4, 4096, 512
DTYPES = {"F32": torch.float32}


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        head = DIM // HEADS
        self.q_proj = nn.Linear(DIM, HEADS * head, bias=False)
        self.k_proj = nn.Linear(DIM, KV_HEADS * head, bias=False)
        self.v_proj = nn.Linear(DIM, KV_HEADS * head, bias=False)
        self.o_proj = nn.Linear(HEADS * head, DIM, bias=False)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate_proj = nn.Linear(DIM, FFN, bias=False)
        self.up_proj = nn.Linear(DIM, FFN, bias=False)
        self.down_proj = nn.Linear(FFN, DIM, bias=False)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm = RMSNorm(DIM)
        self.self_attn = Attention()
        self.post_attention_layernorm = RMSNorm(DIM)
        self.mlp = Mlp()


class Llama(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, DIM)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.norm = RMSNorm(DIM)
        self.lm_head = nn.Linear(DIM, VOCAB, bias=False)
        head = DIM // HEADS
        self.register_buffer("inv_freq", 1.0 / (10000.0 ** (torch.arange(0, head, 2) / head)),
                             persistent=False)
        self.register_buffer("causal_mask", torch.tril(torch.ones(SEQ, SEQ)).bool(),
                             persistent=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)


def convert(source, target):
    data = open(source, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = memoryview(data)[8 + n:]
    state = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        state[name] = torch.frombuffer(bytearray(body[begin:end]), dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    torch.save(state, target)


def load(path):
    torch.set_num_threads(torch.get_num_threads())
    start = time.perf_counter()
    model = Llama()
    model.load_state_dict(torch.load(path))
    seconds = time.perf_counter() - start
    model_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"torch seconds={seconds:.4f} peak_rss={peak} model_bytes={model_bytes}")


if __name__ == "__main__":
    if sys.argv[1] == "convert":
        convert(sys.argv[2], sys.argv[3])
    else:
        load(sys.argv[2])
