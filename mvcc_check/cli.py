"""Command line: a thin layer over the core. Parses options, calls the core,
renders, and maps domain errors to exit codes (see EXIT_CODES)."""

from __future__ import annotations

import click

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

if __name__ == "__main__":
    main()
