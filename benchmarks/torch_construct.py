#!/usr/bin/env python3
"""The PyTorch side of benchmarks/materialize_compare.sh (Debian's python3-torch, 1.13):

  torch_construct.py MODEL   build MODEL eagerly, as examples/models/ writes it (same
      architecture, same init), with torch.set_num_threads(nproc); prints
      "torch model=MODEL seconds=S bytes=B" (B: its parameters' and buffers' bytes).

MODEL is one of materialize_benchmark's: gpt2-small, gpt2-medium, gpt2-large, llama-1.6gb.
"""
import math, os, sys, time

import torch
from torch import nn

GPT2 = {"gpt2-small": (12, 12, 768), "gpt2-medium": (24, 16, 1024), "gpt2-large": (36, 20, 1280)}


class Gpt2Block(nn.Module):  # nanoGPT's Block: LayerNorms, c_attn/c_proj, c_fc/c_proj
    def __init__(self, d):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.ModuleDict({"c_attn": nn.Linear(d, 3 * d), "c_proj": nn.Linear(d, d)})
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.ModuleDict({"c_fc": nn.Linear(d, 4 * d), "c_proj": nn.Linear(4 * d, d)})


class Gpt2(nn.Module):  # nanoGPT's GPT.__init__ and _init_weights
    def __init__(self, layers, d, vocab=50257, block=1024):
        super().__init__()
        self.transformer = nn.ModuleDict({
            "wte": nn.Embedding(vocab, d), "wpe": nn.Embedding(block, d),
            "h": nn.ModuleList(Gpt2Block(d) for _ in range(layers)), "ln_f": nn.LayerNorm(d)})
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0.0, 0.02)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers))


class LlamaLayer(nn.Module):
    def __init__(self, d, heads, kv_heads, ffn):
        super().__init__()
        head = d // heads
        self.input_layernorm = nn.Parameter(torch.ones(d))
        self.self_attn = nn.ModuleDict({
            "q_proj": nn.Linear(d, heads * head, bias=False),
            "k_proj": nn.Linear(d, kv_heads * head, bias=False),
            "v_proj": nn.Linear(d, kv_heads * head, bias=False),
            "o_proj": nn.Linear(heads * head, d, bias=False)})
        self.post_attention_layernorm = nn.Parameter(torch.ones(d))
        self.mlp = nn.ModuleDict({
            "gate_proj": nn.Linear(d, ffn, bias=False), "up_proj": nn.Linear(d, ffn, bias=False),
            "down_proj": nn.Linear(ffn, d, bias=False)})


class Llama(nn.Module):  # examples/models/llama.cc with materialize_benchmark's Llama1600MB
    def __init__(self, vocab=32000, d=2048, layers=6, heads=16, kv_heads=4, ffn=5632, seq=2048):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(LlamaLayer(d, heads, kv_heads, ffn) for _ in range(layers))
        self.norm = nn.Parameter(torch.ones(d))
        self.lm_head = nn.Linear(d, vocab, bias=False)
        head = d // heads
        self.register_buffer("inv_freq", 1.0 / (10000.0 ** (torch.arange(0, head, 2) / head)))
        self.register_buffer("causal_mask", torch.tril(torch.ones(seq, seq)).bool())
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)


def main(model):
    torch.set_num_threads(os.cpu_count())
    start = time.perf_counter()
    built = Llama() if model == "llama-1.6gb" else Gpt2(GPT2[model][0], GPT2[model][2])
    seconds = time.perf_counter() - start
    tensors = {t.data_ptr(): t for t in list(built.parameters()) + list(built.buffers())}
    nbytes = sum(t.numel() * t.element_size() for t in tensors.values())
    print(f"torch model={model} seconds={seconds:.4f} bytes={nbytes}")


if __name__ == "__main__":
    main(sys.argv[1])
