"""@local_cuda: the CUDA toolkit at $CUDA_HOME (default /usr/local/cuda), or its absence.

Bazel 4.2.3 has no CUDA rules; cuda_kernels/cuda.bzl runs nvcc from a genrule. This
repository tells it where nvcc is and exposes the runtime's headers and static library.
Without a toolkit the build goes on without CUDA kernels, and says so in one line.
"""

_AVAILABLE_BUILD = """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "cuda_headers",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp"]),
    includes = ["include"],
)

# Static, as docs/BUILDING.md explains: a shared test library cannot see it otherwise.
cc_library(
    name = "cudart_static",
    srcs = ["lib64/libcudart_static.a"],
    linkopts = ["-ldl", "-lrt", "-lpthread"],
    deps = [":cuda_headers"],
)
"""

def _cuda_configure_impl(ctx):
    cuda_home = ctx.os.environ.get("CUDA_HOME", "/usr/local/cuda")
    nvcc = ctx.path(cuda_home + "/bin/nvcc")
    cudart = ctx.path(cuda_home + "/lib64/libcudart_static.a")
    available = nvcc.exists and cudart.exists
    if available:
        ctx.symlink(cuda_home + "/include", "include")
        ctx.symlink(cudart, "lib64/libcudart_static.a")
        ctx.file("BUILD", _AVAILABLE_BUILD)
    else:
        print("deferred: no CUDA toolkit at %s (bin/nvcc, lib64/libcudart_static.a): " % cuda_home +
              "building without CUDA kernels; cuda:N devices will report Unavailable")
        ctx.file("BUILD", "")
    ctx.file("defs.bzl", "CUDA_AVAILABLE = %s\nNVCC = \"%s\"\n" % (available, nvcc))

cuda_configure = repository_rule(
    implementation = _cuda_configure_impl,
    environ = ["CUDA_HOME"],
    local = True,
)
