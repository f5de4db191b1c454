"""Command line: a thin layer over the core. Parses options, calls the core,
renders, and maps domain errors to exit codes (see EXIT_CODES)."""

from __future__ import annotations

import os
import sys

import click

from mvcc_check.console import INTERRUPTED

EXIT_CODES = {
    0: "valid under every requested model",
    1: "some requested model is violated (anomalies found)",
    2: "unusable input or usage",
    3: "undecided",
}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mvcc-check")
def main() -> None:
    """Find isolation anomalies in transaction histories.

    Exit codes: 0 valid, 1 anomalies the claimed model forbids,
    2 unusable input or usage, 3 undecided.
    """


# Subcommands are registered here, one module each under mvcc_check/commands/.
# --- commands ---
from mvcc_check.commands.check import check_command  # noqa: E402

main.add_command(check_command)

from mvcc_check.commands.dbtest import hermitage_command, test_command  # noqa: E402

main.add_command(test_command)
main.add_command(hermitage_command)

from mvcc_check.commands.run import matrix_command, run_command  # noqa: E402

main.add_command(run_command)
main.add_command(matrix_command)

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
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run_cli()
