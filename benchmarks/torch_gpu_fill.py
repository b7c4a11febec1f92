"""PyTorch's random fills of 1 GiB of float32 on the GPU, beside its memset (zero_).

Prints one line per fill, "torch <name> <GB/s>", the median of 10 timed runs after 3
warm-ups, timed with CUDA events. Run by tools/gpu_check.sh on the same GPU as
//benchmarks:gpu_fill_benchmark, in the same call.
"""
import statistics

import torch


def gigabytes_per_second(fill, t):
    for _ in range(3):
        fill(t)
    torch.cuda.synchronize()
    rates = []
    for _ in range(10):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fill(t)
        end.record()
        end.synchronize()
        rates.append(t.numel() * 4 / (start.elapsed_time(end) / 1e3) / 1e9)
    return statistics.median(rates)


def main():
    t = torch.empty(1 << 28, dtype=torch.float32, device="cuda")
    fills = {
        "memset": lambda x: x.zero_(),
        "uniform_": lambda x: x.uniform_(-1.0, 1.0),
        "normal_": lambda x: x.normal_(0.0, 0.02),
        "trunc_normal_": lambda x: torch.nn.init.trunc_normal_(x, 0.0, 0.02, -0.04, 0.04),
    }
    print("device", torch.cuda.get_device_name(0), "torch", torch.__version__)
    for name, fill in fills.items():
        print("torch", name, "%.1f" % gigabytes_per_second(fill, t))


if __name__ == "__main__":
    main()
