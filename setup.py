"""The C extensions; everything else is in pyproject.toml."""

from setuptools import Extension, setup

WARNINGS = ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]


def extension(module: str, depends: tuple[str, ...] = ()) -> Extension:
    """mvcc_check.x.y._name, built from mvcc_check/x/y/_name.c."""
    source = module.replace(".", "/") + ".c"
    return Extension(module, [source], depends=list(depends), extra_compile_args=WARNINGS)


setup(
    ext_modules=[
        Extension("mvcc_check.analysis.search._bfs", ["mvcc_check/analysis/search/_bfs.c"], extra_compile_args=["-O2"]),
        extension("mvcc_check.analysis.columnar._split"),
        extension("mvcc_check.analysis._edges"),
        extension("mvcc_check.analysis._scc"),
        extension("mvcc_check.history._pair"),
        # The JSON Lines scanner and the EDN line rewrite: plain C in the headers, the
        # Python glue in _scan.c.
        extension(
            "mvcc_check.history._scan",
            depends=(
                "mvcc_check/history/scan_core.h",
                "mvcc_check/history/scan_table.h",
                "mvcc_check/history/edn_core.h",
            ),
        ),
    ]
)
