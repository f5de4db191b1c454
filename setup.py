"""The C extensions; everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("mvcc_check.analysis.search._bfs", ["mvcc_check/analysis/search/_bfs.c"], extra_compile_args=["-O2"]),
        Extension(
            "mvcc_check.analysis.columnar._split",
            ["mvcc_check/analysis/columnar/_split.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        ),
        Extension(
            "mvcc_check.analysis._edges",
            ["mvcc_check/analysis/_edges.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        ),
        Extension(
            "mvcc_check.analysis._scc",
            ["mvcc_check/analysis/_scc.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        ),
        Extension(
            "mvcc_check.history._pair",
            ["mvcc_check/history/_pair.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        ),
        # The JSON Lines scanner: plain C in the headers, the Python glue in _scan.c.
        Extension(
            "mvcc_check.history._scan",
            sources=["mvcc_check/history/_scan.c"],
            depends=["mvcc_check/history/scan_core.h", "mvcc_check/history/scan_table.h"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        ),
    ]
)
