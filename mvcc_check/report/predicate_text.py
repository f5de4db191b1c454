"""Plain words for the closed-predicate workload's steps and anomalies (phantoms)."""

from __future__ import annotations

from typing import Any

_MARKERS = {"elle/unborn": "not yet inserted", "elle/dead": "deleted"}


def version_text(v: Any) -> str:
    """A version in words: a value, or that the row did not exist yet / any more."""
    if isinstance(v, str) and v in _MARKERS:
        return _MARKERS[v]
    return value_text(v)


def value_text(v: Any) -> str:
    if isinstance(v, list | tuple):
        return "[" + " ".join(value_text(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{value_text(k)} {value_text(x)}" for k, x in v.items()) + "}"
    if v is None:
        return "nil"
    return str(v)


def predicate_words(mop: Any) -> str:
    """`rows where value % 2 = 0` for the micro-op [rp [mod 2 0] {...}]."""
    p = mop[1] if isinstance(mop, list | tuple) and len(mop) > 1 else None
    if isinstance(p, tuple):
        p = list(p)
    if p in (True, "true") or p == ["true"]:
        return "every row"
    if isinstance(p, list | tuple) and len(p) == 2 and p[0] in ("=", "=="):
        return f"rows where value = {value_text(p[1])}"
    if isinstance(p, list | tuple) and len(p) == 3 and p[0] == "mod":
        return f"rows where value % {p[1]} = {p[2]}"
    return f"rows matching {value_text(p)}"


def _saw(step: dict[str, Any], a: str) -> str:
    k = value_text(step.get("key"))
    words = predicate_words(step.get("predicate-read"))
    if step.get("returned?"):
        return f"{a}'s predicate read of {words} returned key {k} = {value_text(step.get('value'))}"
    return (
        f"{a}'s predicate read of {words} did not return key {k}, so it saw {k} "
        f"{version_text(step.get('value'))} (of {k}'s versions, the only one that does not match)"
    )


def predicate_step_text(step: dict[str, Any], a: str, b: str) -> str:
    """A wrp or rwp step in words."""
    if step["type"] == "wrp":
        v = step.get("value")
        made = "deleted it" if v == "elle/dead" else f"wrote {value_text(v)}"
        return f"{_saw(step, b)}; {a} {made}"
    v2 = step.get("value'")
    if v2 == "elle/dead":
        change = "deleted it"
    elif step.get("value") == "elle/unborn":
        change = f"inserted it as {value_text(v2)}"
    else:
        change = f"changed it to {value_text(v2)}"
    if step.get("matches'"):
        effect = f"which matches: a phantom {a} did not see"
    else:
        effect = "so it no longer matches: a row that left the predicate after it was read"
    return f"{_saw(step, a)}; {b} {change} later, {effect}"


def predicate_read_miss(item: dict[str, Any], op_text) -> list[str]:
    versions = " then ".join(version_text(v) for v in item.get("versions", []))
    return [
        f"T1 = {op_text(item['op'])}",
        f"T1's predicate read {value_text(item.get('mop'))} did not return key "
        f"{value_text(item.get('key'))}, yet every version the key ever had ({versions}) matches it",
    ]


def predicate_internal(item: dict[str, Any], op_text) -> list[str]:
    k = value_text(item.get("key"))
    want = item.get("expected")
    if want is None:
        saw = f"returned key {k}, which T1 itself had deleted or changed out of the predicate"
    else:
        saw = f"did not return key {k} = {value_text(want)}, which T1 itself had written"
    return [
        f"T1 = {op_text(item['op'])}",
        f"T1's predicate read {value_text(item.get('mop'))} {saw}",
    ]


def committed_by_predicate_read(proof: dict[str, Any], mop: list[Any], t: str, r: str) -> str:
    """Why info txn t committed, when the proof is predicate read `mop` of txn r."""
    key, v = proof.get("key"), proof.get("value")
    k, rows = value_text(key), mop[2] if isinstance(mop[2], dict) else {}
    words = predicate_words(mop)
    if key in rows or str(key) in rows:
        saw = f"{r}'s predicate read of {words} returned key {k} = {value_text(v)}"
    else:
        saw = (
            f"{r}'s predicate read of {words} did not return key {k}, so it saw {k} "
            f"{version_text(v)} (of {k}'s versions, the only one that does not match)"
        )
    made = "deleted it" if v == "elle/dead" else f"made it {value_text(v)}"
    return (
        f"{t}'s outcome was not known (info), but {saw}, and only {t} {made}, so {t} "
        f"committed (or {r} saw an aborted change, worse still), and all of {t}'s changes count"
    )
