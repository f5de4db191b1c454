"""Command line: a thin layer over the core. Parses options, calls the core,
renders, and maps domain errors to exit codes (see EXIT_CODES)."""

from __future__ import annotations

import os
import sys

import click

from mvcc_check.errors import InternalError, MvccCheckError
from mvcc_check.exitcodes import BROKEN_PIPE, EXIT_CODES, INTERRUPTED
from mvcc_check.exitcodes import INTERNAL as INTERNAL_ERROR

__all__ = ["EXIT_CODES", "main", "run_cli"]


# Subcommands, one module each under mvcc_check/commands/, loaded when used so
# that `check` does not pay for the engine's and the database drivers' imports.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("mvcc_check.commands.check", "check_command"),
    "elle-cli": ("mvcc_check.commands.elle_cli", "elle_cli_command"),
    "run": ("mvcc_check.commands.run", "run_command"),
    "matrix": ("mvcc_check.commands.run", "matrix_command"),
    "test": ("mvcc_check.commands.dbtest", "test_command"),
    "hermitage": ("mvcc_check.commands.dbtest", "hermitage_command"),
    "shrink": ("mvcc_check.commands.shrink", "shrink_command"),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        import importlib

        return getattr(importlib.import_module(target[0]), target[1])

    def invoke(self, ctx: click.Context):
        """Run the command; the one place where its outcome becomes an exit code: the
        code it returns, or a domain error's (one line on stderr)."""
        try:
            rv = super().invoke(ctx)
        except MvccCheckError as e:
            ctx.exit(_said(e))
        if isinstance(rv, int):
            ctx.exit(rv)
        return rv


def _said(e: MvccCheckError) -> int:
    """Say a domain error in one line; its exit code."""
    if isinstance(e, InternalError):
        from mvcc_check.commands.failure import report_internal_error

        report_internal_error(e.cause, e.context)
    else:
        click.echo(f"{e.speaker}: {e}", err=True)
    return e.exit_code


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mvcc-check")
@click.option(
    "--debug",
    is_flag=True,
    help="On an internal error, print the traceback (or MVCC_CHECK_DEBUG=1).",
)
def main(debug: bool) -> None:
    """Find isolation anomalies in transaction histories.

    Exit codes: 0 valid, 1 anomalies the claimed model forbids,
    2 unusable input or usage, 3 undecided, 4 internal error (a bug in
    mvcc-check: please report it), 130 interrupted.
    """
    if debug:
        from mvcc_check.commands.failure import DEBUG_ENV

        os.environ[DEBUG_ENV] = "1"


def run_cli() -> None:
    """The console script: run the CLI, then leave without tearing the heap down.

    Freeing millions of objects after a big check takes seconds; everything is
    written and flushed by then, so the process may end at once. Errors are
    turned into exit codes here, so that Ctrl-C is 130 rather than click's 1.
    """
    try:
        rv = main.main(prog_name="mvcc-check", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("mvcc-check: interrupted", err=True)
        code = INTERRUPTED
    except click.ClickException as e:
        e.show()
        code = e.exit_code
    except BrokenPipeError:  # stdout closed early (`| head`): nothing more to say
        code = BROKEN_PIPE
    except Exception as e:  # a bug: say so, and never exit with a verdict's code
        from mvcc_check.commands.failure import report_internal_error

        report_internal_error(e)
        code = INTERNAL_ERROR
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            code = code or BROKEN_PIPE
    os._exit(code)


if __name__ == "__main__":
    run_cli()
