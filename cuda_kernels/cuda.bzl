"""cuda_library: .cu files compiled by nvcc into a cc_library (Bazel 4.2.3 has no CUDA rules).

Device code is compiled as the CPU's is: no fused multiply-adds (-fmad=false, as
-ffp-contract=off on the host), IEEE division and square root, and every warning an error.
Code for sm_90 (H100, H200) and PTX for later GPUs, which their driver compiles.
"""

load("@local_cuda//:defs.bzl", "NVCC")

NVCC_FLAGS = " ".join([
    "-std=c++20",
    "--expt-relaxed-constexpr",
    "-O3",
    "-fmad=false",
    "-prec-div=true",
    "-prec-sqrt=true",
    "-Werror all-warnings",
    "-Xcompiler -Wall,-Werror",
    "-gencode arch=compute_90,code=[sm_90,compute_90]",
])

def cuda_library(name, srcs, hdrs = [], device_hdrs = [], deps = [], **kwargs):
    """A cc_library of `srcs` (.cu) compiled by nvcc, linked with the static CUDA runtime.

    Args:
      name: the library.
      srcs: .cu files, each compiled on its own.
      hdrs: the library's public headers (plain C++: no CUDA constructs).
      device_hdrs: every header the .cu files include, transitively, from this workspace.
      deps: cc_library targets the host side of the objects links against.
      **kwargs: passed to cc_library.
    """
    objects = []
    for src in srcs:
        obj = "%s_%s" % (name, src.replace(".cu", ".o"))
        native.genrule(
            name = obj.replace(".", "_"),
            srcs = [src] + hdrs + device_hdrs,
            outs = [obj],
            cmd = "%s %s -I. -I$(GENDIR) -c $(location %s) -o $@" % (NVCC, NVCC_FLAGS, src),
        )
        objects.append(obj)
    native.cc_library(
        name = name,
        srcs = objects,
        hdrs = hdrs,
        deps = deps + ["@local_cuda//:cudart_static"],
        **kwargs
    )
