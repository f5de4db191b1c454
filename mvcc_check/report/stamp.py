"""What every JSON result carries about its making: the tool, its version, the
JSON format's version, the command and the options it ran with.

The stamp is one key, `mvcc-check`, added beside elle-cli's keys, so scripts
written for elle-cli's output read the same keys as before. Its shape is in
docs/result.schema.json (`$defs/stamp`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import click

JSON_FORMAT = 1
"""Bumped when a key is removed or changes meaning (adding a key keeps it)."""

STAMP_KEY = "mvcc-check"

# Options that are never echoed as given: a database URL may hold a password.
_REDACTED = ("db",)


@cache
def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mvcc-check")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def options_of(ctx: click.Context | None, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The command's options after defaults, by their long names (arguments left out)."""
    if ctx is None:
        return {}
    out: dict[str, Any] = {}
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name in skip or param.name is None:
            continue
        if param.name not in ctx.params:
            continue
        longs = [o for o in param.opts if o.startswith("--")]
        name = (longs[0] if longs else param.opts[0]).lstrip("-")
        value = ctx.params[param.name]
        if param.name in _REDACTED and value is not None:
            value = redact_url(str(value))
        out[name] = _plain(value)
    return dict(sorted(out.items()))


def redact_url(url: str) -> str:
    """A URL without the password in its user part."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    userinfo, host = rest.split("@", 1)
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}@{host}" if ":" in userinfo else url


def stamp_of(
    command: str, options: dict[str, Any] | None = None, ctx: click.Context | None = None
) -> dict[str, Any]:
    """The stamp for one result; options from `options`, else from the click context."""
    if options is None:
        options = options_of(ctx if ctx is not None else click.get_current_context(silent=True))
    return {
        "version": tool_version(),
        "json-format": JSON_FORMAT,
        "command": command,
        "options": options,
    }


def stamped(doc: dict[str, Any], command: str, **kw: Any) -> dict[str, Any]:
    """`doc` with the stamp added under STAMP_KEY (the same dict, returned for chaining)."""
    doc[STAMP_KEY] = stamp_of(command, **kw)
    return doc
