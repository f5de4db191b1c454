"""A check stopped by --time-limit or --max-memory: JSON and text that say what was
decided and what was not, and never a verdict."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from mvcc_check.lab.limits import Stopped

_WHY = {
    "time-limit": "stopped at --time-limit {limit} s",
    "max-memory": "stopped at --max-memory {limit} bytes",
    "worker-died": "stopped: {detail}",
}


def stopped_json(path: str, models: tuple[str, ...], stopped: Stopped) -> dict[str, Any]:
    """elle-cli's valid? (unknown), with the reason and the stages under `undecided`."""
    return {
        "valid?": "unknown",
        "history": path,
        "models": list(models),
        "undecided": stopped.to_json(),
    }


def render_stopped(path: str, models: tuple[str, ...], stopped: Stopped, console: Console) -> None:
    why = _WHY[stopped.reason].format(limit=stopped.limit, detail=stopped.detail)
    where = f" while {stopped.stage}" if stopped.stage else ""
    console.print(
        f"[bold]{escape(path)}[/]: [bold yellow]UNDECIDED[/] under {', '.join(models)}: "
        f"{escape(why)}{where}"
    )
    if stopped.ops_read is not None:
        console.print(f"  {stopped.ops_read} ops read")
    for text in stopped.decided:
        console.print(f"  decided: {escape(text)}")
    for text in stopped.not_decided:
        console.print(f"  not decided: {escape(text)}")
