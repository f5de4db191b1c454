"""The `mvcc-check` console script: light enough to catch Ctrl-C while the CLI loads."""

from __future__ import annotations

import os
import sys

INTERRUPTED = 130  # the shell's code for Ctrl-C; never 1, which would read as "anomalies found"


def entry() -> None:
    try:
        from mvcc_check.cli import run_cli
    except KeyboardInterrupt:
        sys.stderr.write("mvcc-check: interrupted\n")
        sys.stderr.flush()
        os._exit(INTERRUPTED)
    run_cli()
