"""The `mvcc-check` console script: light enough to catch Ctrl-C while the CLI loads."""

from __future__ import annotations

import os
import sys

from mvcc_check.exitcodes import INTERRUPTED


def entry() -> None:
    try:
        from mvcc_check.cli import run_cli
    except KeyboardInterrupt:
        sys.stderr.write("mvcc-check: interrupted\n")
        sys.stderr.flush()
        os._exit(INTERRUPTED)
    run_cli()
