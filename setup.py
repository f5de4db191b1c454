"""Build the C scanner for JSON Lines (mvcc_check/history/_scan.c); the rest is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "mvcc_check.history._scan",
            sources=["mvcc_check/history/_scan.c"],
            depends=["mvcc_check/history/scan_core.h", "mvcc_check/history/scan_table.h"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        )
    ]
)
