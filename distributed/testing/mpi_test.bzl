"""mpi_test: a GoogleTest suite run on several MPI ranks, one test target per world size."""

def mpi_test(name, srcs, deps, ranks, data = [], size = "medium", tags = []):
    """Builds `name`_bin from `srcs` and tests it under mpirun with each count in `ranks`.

    Creates `name`_np1, `name`_np2, ... and a test_suite `name` holding them all.
    """
    native.cc_binary(
        name = name + "_bin",
        srcs = srcs,
        deps = deps + ["//distributed/testing:mpi_test_main"],
        testonly = True,
    )
    tests = []
    for n in ranks:
        test = "%s_np%d" % (name, n)
        native.sh_test(
            name = test,
            srcs = [Label("//distributed/testing:mpirun_test.sh")],
            args = [str(n), "$(location :%s_bin)" % name],
            data = data + [":" + name + "_bin"],
            size = size,
            tags = tags,
        )
        tests.append(":" + test)
    native.test_suite(name = name, tests = tests)
