"""Plain-words report with rich: the verdict first, then each anomaly type with
its count and one example explained step by step."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from mvcc_check.analysis.checker import Result, Verdict
from mvcc_check.analysis.explain import DESCRIPTIONS
from mvcc_check.report import predicate_text
from mvcc_check.report.cases_text import case_step_text, explain_split, over_budget_text

MAX_CYCLE_STEPS_SHOWN = 12


NOT_SHOWN = 4  # models named in the `ruled out` line; the rest are counted (all with --verbose)


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 edge', '2 edges'."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def render_text(result: Result, console: Console, examples: int = 1, verbose: bool = False) -> None:
    """Print the verdict, the models ruled out, and one explained example per anomaly type."""
    s = result.stats
    models = ", ".join(result.models)
    if result.verdict is Verdict.VALID:
        head = f"[bold green]VALID[/] under {models}"
    elif result.verdict is Verdict.INVALID:
        head = f"[bold red]INVALID[/] under {models}"
    else:
        head = f"[bold yellow]UNDECIDED[/] under {models}"
    if result.excluded_keys:
        head += excluded_head(result)
    console.print(f"[bold]{escape(result.source)}[/]: {head}")
    for line in summary_lines(s, result.workload) + excluded_lines(result):
        console.print("  " + escape(line))
    if result.not_:
        console.print(ruled_out_line(result.not_, result.also_not, verbose))
    for kind in result.anomaly_types:
        items = result.anomalies[kind]
        count = len(items) if isinstance(items, list) else 1
        desc = DESCRIPTIONS.get(kind, "")
        if kind == "empty-transaction-graph" and len(result.anomaly_types) > 1:
            desc = EMPTY_GRAPH_BESIDE_OTHERS
        found = f"{count} found" if kind != "empty-transaction-graph" else "no dependency edges"
        console.print(f"\n  [bold magenta]{kind}[/] ({found}){': ' + escape(desc) if desc else ''}")
        if kind == "empty-transaction-graph" and len(result.anomaly_types) > 1:
            continue
        examples_list = items if isinstance(items, list) else [items]
        for item in examples_list[:examples]:
            for line in explain_anomaly(kind, item):
                console.print("    " + escape(line))


EMPTY_GRAPH_BESIDE_OTHERS = (
    "no transaction depends on another; the anomalies above need no dependency to show"
)


EXCLUDED_SHOWN = 5  # keys left out that are named in text; the rest are counted


def excluded_head(result: Result) -> str:
    """What the verdict covers when keys were left out."""
    n = len(result.excluded_keys)
    if result.keys_left == 0:
        return f": nothing judged, every key was left out ({plural(n, 'key')})"
    return (
        f", judged only on the {plural(result.keys_left or 0, 'key')} left in "
        f"({plural(n, 'key')} left out)"
    )


def excluded_note(result: Result) -> str:
    """One line: the verdict covers only some keys (for elle-cli's output, on stderr)."""
    keys = ", ".join(_val(r["key"]) for r in result.excluded_keys[:EXCLUDED_SHOWN])
    more = len(result.excluded_keys) - EXCLUDED_SHOWN
    keys += f" and {more} more" if more > 0 else ""
    return (
        f"judged without {plural(len(result.excluded_keys), 'key')} whose writes are not unique "
        f"({keys}): the verdict covers only the other keys (--strict-input refuses the history)"
    )


def _excluded_key(r: dict[str, Any]) -> str:
    if r.get("from-whole-history"):
        return f"{_val(r['key'])} (as in the whole history this one was cut from)"
    return f"{_val(r['key'])} (value {_val(r['value'])} written at {r['first']} and again at {r['again']})"


def excluded_lines(result: Result) -> list[str]:
    """The keys left out of the judgement, and why."""
    recs = result.excluded_keys
    if not recs:
        return []
    named = "; ".join(_excluded_key(r) for r in recs[:EXCLUDED_SHOWN])
    more = f"; and {len(recs) - EXCLUDED_SHOWN} more" if len(recs) > EXCLUDED_SHOWN else ""
    return [
        f"left out {plural(len(recs), 'key')}, whose writes are not unique: {named}{more}",
        "  (no edge and no anomaly comes from them, the verdict covers only the other keys; "
        "--strict-input refuses such a history)",
    ]


def summary_lines(s: dict[str, Any], workload: str) -> list[str]:
    """What the history held, and what the reader left out and why."""
    if not s.get("ops") and not s.get("ignored"):
        lines = ["the history holds no ops: nothing to check"]
    else:
        lines = [
            f"{workload} history: {s.get('ok', 0)} committed, {s.get('info', 0)} indeterminate, "
            f"{plural(s.get('fail', 0), 'failed transaction')}; "
            f"{plural(s.get('edges', 0), 'dependency edge')}"
        ]
    for why, n in (s.get("ignored-why") or {}).items():
        lines.append(f"ignored {plural(n, 'op')}: {why}, as Elle does")
    if s.get("ignored-client-like"):
        lines.append(
            f"warning: the ignored op at {s['ignored-client-like']} looks like a client "
            "transaction (f txn or micro-ops), but its process is not an integer"
        )
    if s.get("torn-tail-dropped"):
        lines.append(
            f"dropped the torn last line ({s['torn-tail-dropped']}): the recording was "
            "probably interrupted while writing it"
        )
    return lines


def ruled_out_line(not_: list[str], also_not: list[str], verbose: bool) -> str:
    """The weakest models ruled out (the first few unless verbose), the stronger ones counted."""
    shown = not_ if verbose or len(not_) <= NOT_SHOWN + 1 else not_[:NOT_SHOWN]
    line = f"  ruled out: [bold]{escape(', '.join(shown))}[/]"
    if len(shown) < len(not_):
        line += f" and {len(not_) - len(shown)} more"
    if also_not:
        if verbose or len(also_not) <= 3:
            line += f" (and so the stronger {escape(', '.join(also_not))})"
        else:
            line += f" (and so {plural(len(also_not), 'stronger model')})"
    if not verbose and (len(shown) < len(not_) or also_not):
        line += "; --verbose or --output json lists them all"
    return line


def _val(v: Any) -> str:
    if isinstance(v, dict):
        return predicate_text.value_text(v)
    if isinstance(v, list | tuple):
        return "[" + " ".join(_val(x) for x in v) + "]"
    if v is None:
        return "nil"
    return str(v)


def process_text(process: Any) -> str:
    """`process 3`, or `no process` for an op that has none (read as one unnamed process)."""
    return "no process" if process is None else f"process {process}"


def op_text(op: dict[str, Any]) -> str:
    mops = " ".join(f"[{m[0]} {_val(m[1])} {_val(m[2])}]" for m in op.get("value") or [])
    return (
        f"op index {op.get('index')}, {process_text(op.get('process'))}, {op.get('type')}: {mops}"
    )


def explain_anomaly(kind: str, item: Any) -> list[str]:
    if isinstance(item, dict) and "split" in item:
        return explain_split(item)
    if isinstance(item, dict) and "cycle" in item:
        return explain_cycle(item)
    if kind == "empty-transaction-graph":
        return [
            "no transaction depends on another, so the history cannot show any ordering (nothing to check)"
        ]
    if not isinstance(item, dict):
        return [str(item)]
    f = _NON_CYCLE.get(kind)
    if f is not None:
        return f(item)
    if kind.endswith("-cycle-exists"):
        return [
            f"a cycle forbidden by {item.get('not')} exists among {item.get('scc-size')} transactions "
            f"(op indices {_val(item.get('scc', [])[:20])}{' ...' if len(item.get('scc', [])) > 20 else ''})"
        ]
    return [str(item)]


def _mop(item: dict[str, Any]) -> str:
    m = item.get("mop") or ["?", "?", "?"]
    return f"[{m[0]} {_val(m[1])} {_val(m[2])}]"


def _g1a(item):
    return [
        f"T1 = {op_text(item['op'])}",
        f"T2 = {op_text(item['writer'])}",
        f"T1's read {_mop(item)} includes {_val(item['element'])}, written by T2, which failed (aborted)",
    ]


def _g1b(item):
    return [
        f"T1 = {op_text(item['op'])}",
        f"T2 = {op_text(item['writer'])}",
        f"T1's read {_mop(item)} saw {_val(item['element'])}, an intermediate write of T2: "
        "T2 wrote that key again later, so its final state is not what T1 saw",
    ]


def _internal(item):
    if "key" in item:  # a predicate read against its own transaction's changes
        return predicate_text.predicate_internal(item, op_text)
    return [
        f"T1 = {op_text(item['op'])}",
        f"T1's read {_mop(item)} contradicts T1's own earlier operations, which imply {_val(item['expected'])}",
    ]


def _future(item):
    return [
        f"T1 = {op_text(item['op'])}",
        f"T1's read {_mop(item)} saw {_val(item['element'])}, which T1 itself writes only later",
    ]


def _garbage(item):
    mop = item.get("mop") or ["?", "?", "?"]
    unknown = item.get("elements", [item.get("element")])
    verb = "appended" if isinstance(mop[2], list) else "wrote"
    what = _val(unknown[0]) if len(unknown) == 1 else "elements " + ", ".join(map(_val, unknown))
    return [
        f"T1 = {op_text(item['op'])}",
        f"T1's read {_mop(item)} returned {what}, which no transaction {verb} to key "
        f"{_val(mop[1])}: a value from nowhere (corruption, or a read of something else)",
    ]


def _dup(item):
    return [
        f"T1 = {op_text(item['op'])}",
        f"T1's read {_mop(item)} holds duplicated elements {item['duplicates']}",
    ]


def _incompatible(item):
    a, b = item["values"]
    return [
        f"key {_val(item['key'])} was read as {_val(a)} and as {_val(b)}: neither is a prefix of the other, "
        "so no single order of appends produced both"
    ]


def _dirty(item):
    a, b = item["values"]
    return [
        f"on key {_val(item['key'])}, {_val(b)} was appended after {_val(a)}, which a failed transaction "
        f"appended: a committed update built on an aborted one ({op_text(item['txns'][0])})"
    ]


def _lost(item):
    txns = item["txns"]
    lines = [f"T{i + 1} = {op_text(op)}" for i, op in enumerate(txns)]
    appends = isinstance(item.get("value"), list)
    who = "both" if len(txns) == 2 else f"all {len(txns)}"
    what = "appended to it" if appends else "wrote it"
    other = "the other's" if len(txns) == 2 else "the others'"
    lines.append(
        f"{who} read key {_val(item['key'])} = {_val(item['value'])} and then {what}, "
        f"each without seeing {other} {'append' if appends else 'write'}: an update was lost"
    )
    return lines


def _cyclic_versions(item):
    return [
        f"the version order of key {_val(item['key'])} is cyclic among values {_val(item['scc'])}"
    ]


_NON_CYCLE = {
    "complete-search-over-budget": over_budget_text,
    "G1a": _g1a,
    "G1b": _g1b,
    "internal": _internal,
    "future-read": _future,
    "duplicate-elements": _dup,
    "garbage-read": _garbage,
    "incompatible-order": _incompatible,
    "dirty-update": _dirty,
    "lost-update": _lost,
    "cyclic-versions": _cyclic_versions,
    "predicate-read-miss": lambda item: predicate_text.predicate_read_miss(item, op_text),
}


def explain_cycle(item: dict[str, Any]) -> list[str]:
    ops = item["cycle"][:-1]
    names: dict[int, str] = {}
    lines = []
    for op in ops:
        if op["index"] not in names:
            names[op["index"]] = f"T{len(names) + 1}"
            lines.append(f"{names[op['index']]} = {op_text(op)}")
    steps = item["steps"]
    for i, step in enumerate(steps[:MAX_CYCLE_STEPS_SHOWN]):
        a = names[ops[i]["index"]]
        b = names[ops[(i + 1) % len(ops)]["index"]]
        op_a, op_b = ops[i], ops[(i + 1) % len(ops)]
        lines.append(f"{i + 1}. {a} < {b} because {step_text(step, a, b, op_a, op_b)}")
    if len(steps) > MAX_CYCLE_STEPS_SHOWN:
        lines.append(f"... {len(steps) - MAX_CYCLE_STEPS_SHOWN} more steps (see --output json)")
    for proof in item.get("committed", ()):
        lines.append(committed_text(proof, names))
    if item.get("write-cycle"):
        lines.append(
            "(only ww steps: a write cycle, G0, had the indeterminate transactions committed; had "
            "they not, a read saw an aborted write, G1a, which read uncommitted allows: so this "
            "rules out read committed and the models above it, not read uncommitted)"
        )
    first = names[ops[0]["index"]]
    lines.append(
        f"so {first} < {first}: a contradiction, no order of these transactions explains what they saw"
    )
    if item.get("shortest?") is False:
        lines.append(
            "(a witness: the search's work budget ran out before a shorter cycle of this type was ruled out)"
        )
    return lines


def _mop_at(op: dict[str, Any], i: Any) -> list[Any] | None:
    mops = op.get("value") or []
    return mops[i] if isinstance(i, int) and 0 <= i < len(mops) else None


def committed_text(proof: dict[str, Any], names: dict[int, str]) -> str:
    """Why an indeterminate (info) transaction of a cycle counts as committed."""
    t = names.get(proof["index"], f"the transaction at op index {proof['index']}")
    placed = proof.get("transaction-order")
    if placed is not None:
        return (
            f"{t}'s outcome was not known (info), but the transaction order "
            f"({placed['source']}) places it at position {placed['position']}, so {t} "
            f"committed, and all of {t}'s writes count"
        )
    reader = proof["reader"]
    r = names.get(reader["index"], f"the transaction at op index {reader['index']}")
    mop = _mop_at(reader, proof.get("mop-index"))
    if mop and mop[0] == "rp":
        return predicate_text.committed_by_predicate_read(proof, mop, t, r)
    k, v = _val(proof["key"]), _val(proof["value"])
    seen = _val(mop[2]) if mop else v
    verb = "appended" if mop and isinstance(mop[2], list) else "wrote"
    return (
        f"{t}'s outcome was not known (info), but {r} read key {k} = {seen}, and only {t} "
        f"{verb} {v} to {k}, so {t} committed (or {r} read an aborted write, worse still), "
        f"and all of {t}'s writes count"
    )


def _commits(step: dict[str, Any], a: str, b: str, op_a: dict[str, Any]) -> str:
    """Why the versions are in that order, when the transaction order said so."""
    why = step.get("transaction-order")
    if not why:
        return ""
    first, then = why["earlier"], why["later"]
    who = a if first["index"] == op_a.get("index") else f"op index {first['index']}"
    if who != a:
        who += f", which wrote {_val(step.get('value'))},"
    return (
        f" (transaction-order says {who} committed before {b}: "
        f"positions {first['position']} and {then['position']})"
    )


def step_text(
    step: dict[str, Any], a: str, b: str, op_a: dict[str, Any], op_b: dict[str, Any]
) -> str:
    """One dependency in words, quoting the micro-ops that justify it."""
    t = step["type"]
    if t in ("wrp", "rwp"):
        return predicate_text.predicate_step_text(step, a, b)
    k = _val(step.get("key"))
    v1 = _val(step.get("value"))
    v2 = _val(step.get("value'"))
    mop_a = _mop_at(op_a, step.get("a-mop-index"))
    mop_b = _mop_at(op_b, step.get("b-mop-index"))
    verb_b = "appended" if mop_b and mop_b[0] == "append" else "wrote"
    verb_a = "appended" if mop_a and mop_a[0] == "append" else "wrote"
    if step.get("case"):
        return case_step_text(step, a, b, k, v1, v2)
    if t == "ww":
        if step.get("unread"):
            return (
                f"{b} {verb_b} {v2} to key {k}, which committed but no read shows, so it came after "
                f"every value read of {k}, {a}'s {v1} included"
            )
        return f"{a} {verb_a} {v1} to key {k} and {b} {verb_b} {v2} right after it" + _commits(
            step, a, b, op_a
        )
    if t == "wr":
        seen = _val(mop_b[2]) if mop_b else v1
        if mop_b and isinstance(mop_b[2], list):
            return f"{b} read key {k} = {seen}, which includes {a}'s append of {v1}"
        return f"{b} read key {k} = {seen}, which {a} wrote"
    if t == "rw":
        seen = _val(mop_a[2]) if mop_a else v1
        return (
            f"{a} read key {k} = {seen} and {b} {verb_b} {v2} to key {k} later, so {a} did not see "
            f"{b}'s write" + _commits(step, a, b, op_a)
        )
    if t == "realtime":
        a_end = step.get("a'", {}).get("index")
        return (
            f"{a} completed (op index {a_end}) before {b} began (op index {step['b'].get('index')})"
        )
    if t == "process":
        return f"{process_text(step.get('process'))} ran {a} and then {b}"
    return t
