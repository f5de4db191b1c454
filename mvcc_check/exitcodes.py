"""Exit codes: the CI interface, defined once. Light on purpose (no imports), so the
console script can name them before anything else loads."""

from __future__ import annotations

VALID = 0  # valid under every requested model
INVALID = 1  # some requested model is violated: anomalies it forbids were found
UNUSABLE = 2  # unusable input or usage
UNDECIDED = 3
INTERNAL = 4  # a bug in mvcc-check, never a verdict
INTERRUPTED = 130  # the shell's code for Ctrl-C; never 1, which would read as "anomalies found"
BROKEN_PIPE = 141  # as the shell reports a process killed by SIGPIPE

EXIT_CODES = {
    VALID: "valid under every requested model",
    INVALID: "some requested model is violated (anomalies found)",
    UNUSABLE: "unusable input or usage",
    UNDECIDED: "undecided",
    INTERNAL: "internal error: a bug in mvcc-check (please report it)",
    INTERRUPTED: "interrupted",
}
