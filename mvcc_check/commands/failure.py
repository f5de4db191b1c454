"""What the CLI says when mvcc-check itself fails: one line asking for a report,
the traceback only when asked for (--debug or MVCC_CHECK_DEBUG=1)."""

from __future__ import annotations

import os
import traceback

import click

from mvcc_check.errors import cut

DEBUG_ENV = "MVCC_CHECK_DEBUG"
REPORT_HINT = "please report it with the input that caused it (--debug shows the traceback)"


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "").lower() not in ("", "0", "false", "no")


def report_internal_error(e: BaseException, context: str = "") -> None:
    """Print the one-line internal-error message (and the traceback when debugging)."""
    if debug_enabled():
        traceback.print_exception(e)
    what = cut(" ".join(f"{type(e).__name__}: {e}".split()), 200)
    where = f" while {context}" if context else ""
    click.echo(
        f"mvcc-check: internal error{where} ({what}); this is a bug, {REPORT_HINT}", err=True
    )
