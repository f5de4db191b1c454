"""The C extensions; everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("mvcc_check.analysis.search._bfs", ["mvcc_check/analysis/search/_bfs.c"], extra_compile_args=["-O2"]),
    ]
)
