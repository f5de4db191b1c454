"""A fuzzer for the input contract of `mvcc-check check` (issue 15).

Malformed and adversarial inputs are made from valid histories, in every
format: mutations of every field of an op and of its micro-ops, truncations,
byte insertions and deletions, encodings, deep nesting, EDN edge cases,
format and extension confusions. Each is checked against the contract:

- the exit code is 0, 1, 2 or 3 (never 4, never an exception, never a traceback);
- exit 2: exactly one line on stderr naming the file and the place (`line N`,
  `op index N`) or what is wrong with the file as a whole;
- a verdict (0, 1, 3): stderr empty with --quiet; and never a silent change:
  * an input that an independent reading says is unusable (stdlib `json` for
    the JSON formats, Elle's op rules written out again below) must exit 2;
  * an input it reads must give exactly the ops it reads, or be refused;
  * a rewrite that keeps the history (a BOM, CRLF line ends, another
    extension, blank lines) must give the same verdict and the same JSON.

`pytest tests/test_fuzz_inputs.py` runs a short seeded round; `make fuzz` a long one:
    python tests/fuzz_inputs.py --cases 5000 --seed 1
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from mvcc_check.cli import main
from mvcc_check.engine.scheduler import run_engine
from mvcc_check.errors import HistoryError
from mvcc_check.history.readers import load_history
from mvcc_check.workload import WorkloadSpec

OpDict = dict[str, Any]
FORMATS = ("jsonl", "json", "json-wrapped", "edn", "edn-vector")
EXTENSION = {"jsonl": ".jsonl", "json": ".json", "json-wrapped": ".json", "edn": ".edn"}
EXTENSION["edn-vector"] = ".edn"


# --- Valid histories to start from -----------------------------------------


def base_histories() -> list[list[OpDict]]:
    """Small valid histories: engine runs of both workloads (with rollbacks and
    crashes), a nemesis op among them, one without index or time fields."""
    out = []
    for workload, seed in (("list-append", 1), ("rw-register", 2), ("list-append", 3)):
        spec = WorkloadSpec(workload=workload, txns=6, clients=3, keys=3, seed=seed)
        ops = run_engine("read-committed", spec, rollback_rate=0.2, crash_rate=0.1).ops
        ops = [dict(op) for op in ops]
        ops.insert(
            len(ops) // 2, {"type": "info", "process": "nemesis", "f": "kill", "value": None}
        )
        out.append(ops)
    bare = [{k: v for k, v in op.items() if k not in ("index", "time")} for op in out[0]]
    out.append(bare)
    return out


# --- Writers, one per format -----------------------------------------------


def to_jsonl(ops: list[Any]) -> bytes:
    return b"".join(json.dumps(op).encode() + b"\n" for op in ops)


def edn_value(x: Any, field_value: bool = False) -> str:
    """EDN text for a JSON-shaped value; op type, f and micro-op kinds as keywords."""
    if x is None:
        return "nil"
    if x is True or x is False:
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return repr(x) if math.isfinite(x) else ("1e400" if x > 0 else "-1e400")
    if isinstance(x, str):
        if field_value and x and x.replace("-", "").isalnum() and not x[0].isdigit():
            return ":" + x
        return json.dumps(x)
    if isinstance(x, list):
        if len(x) == 3 and x[0] in ("append", "r", "w"):
            return "[" + " ".join([edn_value(x[0], True), edn_value(x[1]), edn_value(x[2])]) + "]"
        return "[" + " ".join(edn_value(e) for e in x) + "]"
    if isinstance(x, dict):
        parts = []
        for k, v in x.items():
            key = ":" + k if isinstance(k, str) and k.isidentifier() else edn_value(k)
            parts.append(f"{key} {edn_value(v, k in ('type', 'f'))}")
        return "{" + ", ".join(parts) + "}"
    raise TypeError(type(x))


def serialize(ops: list[Any], fmt: str) -> bytes:
    if fmt == "jsonl":
        return to_jsonl(ops)
    if fmt == "json":
        return json.dumps(ops, indent=1).encode()
    if fmt == "json-wrapped":
        return json.dumps({"history": ops}).encode()
    if fmt == "edn":
        return "".join(edn_value(op) + "\n" for op in ops).encode()
    return ("[\n" + "".join(" " + edn_value(op) + "\n" for op in ops) + "]\n").encode()


# --- An independent reading: Elle's op rules, written out again --------------


class Unusable(Exception):
    pass


def _key(k: Any) -> Any:
    if isinstance(k, list):
        return tuple(_key(e) for e in k)
    if isinstance(k, dict):
        return tuple(sorted((str(a), _key(b)) for a, b in k.items()))
    return k


def expected_ops(raws: list[Any]) -> list[tuple]:
    """The client ops as (type, process, index, time, f, micro-ops), or Unusable."""
    out = []
    for position, raw in enumerate(raws):
        if not isinstance(raw, dict):
            raise Unusable("not an op map")
        if raw.get("type") not in ("invoke", "ok", "fail", "info") or isinstance(
            raw.get("type"), list | dict
        ):
            raise Unusable("type")
        p = raw.get("process")
        if "process" in raw and type(p) is not int:
            continue  # not a client op (a missing process is a client's): ignored
        index = raw.get("index")
        if index is None:
            index = position
        elif type(index) is not int:
            raise Unusable("index")
        t = raw.get("time")
        if t is not None and type(t) is not int and (type(t) is not float or not math.isfinite(t)):
            raise Unusable("time")
        value = raw.get("value")
        if not isinstance(value, list):
            raise Unusable("value")
        mops = []
        for m in value:
            if isinstance(m, list) and len(m) == 2 and m[0] == "r":
                m = [*m, None]  # [r k] is [r k nil], as Elle reads it (elle#21)
            if not isinstance(m, list) or len(m) != 3 or m[0] not in ("append", "r", "w"):
                raise Unusable("micro-op")
            mops.append((m[0], _key(m[1]), m[2]))
        out.append((raw["type"], p, index, t, raw.get("f"), mops))
    return out


def _canon(x: Any) -> Any:
    if isinstance(x, list | tuple):
        return [_canon(e) for e in x]
    if isinstance(x, frozenset | set):
        return sorted((_canon(e) for e in x), key=repr)
    return x


def read_ops(path: Path, drop_torn_tail: bool = False) -> list[tuple] | None:
    """What our reader makes of a file, in expected_ops' shape; None if it refuses it."""
    try:
        h = load_history(str(path), drop_torn_tail=drop_torn_tail)
    except HistoryError:
        return None
    return [
        (op.type, op.process, op.index, op.time, op.f, [tuple(m) for m in op.value]) for op in h.ops
    ]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def json_reading(data: bytes, fmt: str) -> list[Any]:
    """The raw ops as the stdlib json module reads them (strict UTF-8, no NaN), or Unusable."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
        if not text.strip():
            return []
        if fmt == "jsonl":
            lines = [ln for ln in text.split("\n") if ln.strip()]
            return [json.loads(ln, parse_constant=_reject_constant) for ln in lines]
        doc = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise Unusable(str(e)) from None
    if isinstance(doc, dict) and isinstance(doc.get("history"), list):
        doc = doc["history"]
    if not isinstance(doc, list):
        raise Unusable("not an array")
    return doc


# --- Mutations ---------------------------------------------------------------

DEEP = 120
ADVERSARIAL: list[Any] = [
    None, True, False, 0, -1, 1.5, 2**63, 2**64, -(2**70), 10**40, float("inf"),
    "", "x", "1", "ok", "invoke", "append", "nemesis", "txn", "ü\u0000", [], [1],
    [[1]], [None], {}, {"a": 1}, ["append", "x", 1], [["r", "x", None]],
]  # fmt: skip


def _nested(depth: int) -> Any:
    x: Any = 1
    for _ in range(depth):
        x = [x]
    return x


def adversarial(rnd: random.Random) -> Any:
    pick = rnd.random()
    if pick < 0.03:
        return "v" * 100_000
    if pick < 0.06:
        return _nested(rnd.choice([5, DEEP]))
    return copy.deepcopy(rnd.choice(ADVERSARIAL))


FIELDS = ("type", "process", "f", "value", "index", "time", "extra")


def mutate_data(ops: list[OpDict], rnd: random.Random) -> tuple[list[Any], str]:
    """One change to one op or micro-op: a field deleted or set to an adversarial value."""
    ops = copy.deepcopy(ops)
    i = rnd.randrange(len(ops))
    op = ops[i]
    mops = op.get("value")
    if rnd.random() < 0.45 and isinstance(mops, list) and mops:
        j = rnd.randrange(len(mops))
        m = mops[j]
        what = rnd.random()
        if what < 0.7 and isinstance(m, list):
            e = rnd.randrange(len(m))
            m[e] = adversarial(rnd)
            return ops, f"op {i} micro-op {j} element {e}"
        if what < 0.85 and isinstance(m, list):
            if rnd.random() < 0.5:
                del m[rnd.randrange(len(m))]
            else:
                m.append(adversarial(rnd))
            return ops, f"op {i} micro-op {j} length"
        mops[j] = adversarial(rnd)
        return ops, f"op {i} micro-op {j}"
    field = rnd.choice(FIELDS)
    if rnd.random() < 0.2 and field in op:
        del op[field]
        return ops, f"op {i} without {field}"
    op[field] = adversarial(rnd)
    if rnd.random() < 0.05:
        ops[i] = adversarial(rnd)
        return ops, f"op {i} replaced"
    return ops, f"op {i} {field}"


INSERTS = [b"\x00", b"\xff", b"\x80", b"\xc3", b"\x01", b"\x1b", b'"', b"[", b"{", b"}", b"]",
           b",", b"#", b"\\", b":", b"\n", b" ", b"1/0", b"#_", b"#foo", b"N", b"e400"]  # fmt: skip


def mutate_bytes(data: bytes, rnd: random.Random) -> tuple[bytes, str]:
    """A change to the text: truncation, insertion, deletion, lines moved or doubled."""
    n = len(data)
    kind = rnd.choice(["truncate", "insert", "delete", "lines", "utf16", "latin1", "deep"])
    at = rnd.randrange(n + 1)
    if kind == "truncate":
        return data[:at], f"truncated at byte {at}"
    if kind == "insert":
        b = rnd.choice(INSERTS)
        return data[:at] + b + data[at:], f"{b!r} inserted at byte {at}"
    if kind == "delete":
        end = min(n, at + rnd.randint(1, 8))
        return data[:at] + data[end:], f"bytes {at}-{end} deleted"
    if kind == "lines":
        lines = data.split(b"\n")
        i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
        if rnd.random() < 0.5:
            lines.insert(j, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines), f"line {i + 1} moved or doubled"
    if kind == "utf16":
        return data.decode("utf-8").encode("utf-16"), "UTF-16"
    if kind == "latin1":
        quote = data.find(b'"', at)
        if quote < 0:
            return b"\xe9" + data, "Latin-1 byte first"
        return data[: quote + 1] + b"\xe9" + data[quote + 1 :], f"Latin-1 byte at {quote + 1}"
    opener = data.find(b"[[", at)
    if opener < 0:
        opener = data.find(b"[[")
    return data[:opener] + b"[" * 1000 + data[opener:] + b"]" * 1000, "1000 deep"


EDN_EDGES = [  # (an op line, whether it is usable)
    ("{:type :ok, :process 9, :value [[:append :q 1/0]]}", False),
    ("{:type :ok, :process 9, :value [[:append :q 0/0]]}", False),
    ("{:type :ok, :process 9, :time 1e400, :value [[:append :q 1]]}", False),
    ("{:type :ok, :process 9, :value [[:append :q " + "7" * 5000 + "]]}", False),
    ("{:type :ok, :process 9, :value [[:r :q [\x001]]]}", False),
    ("{:type :ok, :process 9, :value [[:append :q 1]]}\n#foo", False),
    ("{:type :ok, :process 9, :value [[:append :q 1]]}\n#_", False),
    ("{:type :ok, :process 9, :value [[:append :q #foo]]}", False),
    ("{:type :ok, :process 9, :value [[:append :q #foo 1]]}", True),
    ("{:type :ok, :process 9, :value [[:append #{:a} 1]]}", True),
    ("{:type :ok, :process 9, :time 12N, :value [[:append :q 1]]}", True),
    ("{:type :ok, :process 9, :time 1/2, :value [[:append :q 1]]}", True),
    ("{:type :ok, :process 9, :value [[:append :q 1]] #_ :ignored #_ 2}", True),
    ("{:type :ok, :process 9, :value [[:append :q \\a]]}", True),
    ("{:type :ok, :process 9, :value [[:append [:k 1] 1]]} ; comment", True),
]


# --- The contract ------------------------------------------------------------


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def run_check(path: Path, *args: str) -> Outcome:
    r = CliRunner().invoke(main, ["check", "-q", *args, str(path)])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"{path.name}: exception {r.exception!r}")
    return Outcome(r.exit_code, r.stdout, r.stderr)


def assert_contract(path: Path, out: Outcome, json_output: bool) -> None:
    """Exit codes, one-line errors naming file and place, no traceback, quiet verdicts."""
    what = f"{path.name}: exit {out.code}, stderr {out.stderr[:300]!r}"
    assert out.code in (0, 1, 2, 3), what
    assert "Traceback" not in out.stdout + out.stderr, what
    if out.code == 2:
        lines = out.stderr.splitlines()
        assert len(lines) == 1, what
        assert lines[0].startswith(f"mvcc-check: {path}: "), what
        rest = lines[0][len(f"mvcc-check: {path}: ") :]
        assert rest.startswith(("line ", "op index ")) or "cannot" in rest, what
        assert len(lines[0]) < 600, what
    else:
        assert out.stderr == "", what
    if json_output:
        doc = json.loads(out.stdout)
        assert doc["valid?"] in (True, False, "unknown"), what


def _verdict(out: Outcome) -> Any:
    if out.code == 2:
        return 2
    doc = json.loads(out.stdout)
    doc.pop("history", None)
    for place in ("ignored-client-like", "torn-tail-dropped"):  # lines move with blank lines
        doc.get("stats", {}).pop(place, None)
    return out.code, doc


@dataclass
class Case:
    name: str
    data: bytes
    ext: str
    fmt: str  # the format the bytes are in
    expect: str  # "usable", "unusable", "same" (as `original`), or "any"
    original: bytes | None = None
    original_ext: str = ""
    raws: list[Any] | None = None  # the raw ops the bytes hold, when known


def cases(seed: int, count: int) -> Iterator[Case]:
    rnd = random.Random(seed)
    bases = base_histories()
    for n in range(count):
        ops = rnd.choice(bases)
        fmt = rnd.choice(FORMATS)
        valid = serialize(ops, fmt)
        kind = rnd.random()
        if kind < 0.4:
            mutated, how = mutate_data(ops, rnd)
            try:
                data = serialize(mutated, fmt)
            except (TypeError, ValueError):
                continue
            yield Case(f"{n}-{fmt}-{how}", data, EXTENSION[fmt], fmt, "any", raws=mutated)
        elif kind < 0.75:
            data, how = mutate_bytes(valid, rnd)
            yield Case(f"{n}-{fmt}-{how}", data, EXTENSION[fmt], fmt, "any")
        elif kind < 0.85:
            line, usable = rnd.choice(EDN_EDGES)
            if any(m[0] == "w" for op in ops for m in op["value"] or ()):
                line = line.replace(":append", ":w")  # the base's workload
            data = serialize(ops, "edn") + line.encode() + (b"\n" if usable else b"")
            yield Case(f"{n}-edn-edge", data, ".edn", "edn", "usable" if usable else "unusable")
        else:
            data, ext, how = _same_history(valid, fmt, rnd)
            yield Case(f"{n}-{fmt}-{how}", data, ext, fmt, "same", valid, EXTENSION[fmt])


def _same_history(valid: bytes, fmt: str, rnd: random.Random) -> tuple[bytes, str, str]:
    """A rewrite that keeps the history: BOM, CRLF, blank lines, another extension."""
    how = rnd.choice(["bom", "crlf", "blank", "extension"])
    if how == "bom":
        return b"\xef\xbb\xbf" + valid, EXTENSION[fmt], how
    if how == "crlf":
        return valid.replace(b"\n", b"\r\n"), EXTENSION[fmt], how
    if how == "blank":
        return b"\n\n" + valid + b"\n  \n", EXTENSION[fmt], how
    return valid, rnd.choice([".json", ".jsonl", ".edn", ".txt", ""]), how


def _without_torn_tail(data: bytes) -> bytes:
    """JSON Lines without a last line that has no newline and is not JSON (dropped on request)."""
    cut = data.rfind(b"\n") + 1
    try:
        json.loads(data[cut:].decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return data[:cut] if data[cut:].strip() else data
    return data


def check_case(case: Case, tmp: Path, rnd: random.Random) -> None:
    path = tmp / f"h{case.ext}"
    path.write_bytes(case.data)
    json_output = rnd.random() < 0.5
    args = ("-o", "json") if json_output else ()
    if "truncated" in case.name and rnd.random() < 0.5:
        args += ("--drop-torn-tail",)
    out = run_check(path, *args)
    assert_contract(path, out, json_output)
    CODES[out.code] += 1
    if case.expect == "unusable":
        assert out.code == 2, f"{case.name}: unusable input accepted (exit {out.code})"
    if case.expect == "usable":
        assert out.code != 2, f"{case.name}: usable input refused: {out.stderr}"
    if case.expect == "same":
        first = tmp / f"orig{case.original_ext}"
        assert case.original is not None
        first.write_bytes(case.original)
        want = _verdict(run_check(first, "-o", "json"))
        got = _verdict(run_check(path, "-o", "json"))
        assert got == want, f"{case.name}: the verdict changed: {got} != {want}"
    if case.expect == "any":
        _no_silent_change(case, path, out, "--drop-torn-tail" in args)


def _no_silent_change(case: Case, path: Path, out: Outcome, drop_torn_tail: bool) -> None:
    """Where an independent reading of the input exists, our reader agrees with it or refuses."""
    raws = case.raws
    data = case.data
    if drop_torn_tail:
        if case.fmt != "jsonl":
            return  # (the torn EDN or JSON document has no independent reading here)
        data = _without_torn_tail(data)
    if raws is None and case.fmt != "edn" and case.fmt != "edn-vector":
        try:
            raws = json_reading(data, "jsonl" if case.fmt == "jsonl" else "json")
        except Unusable:
            assert out.code == 2, f"{case.name}: input that is not JSON accepted (exit {out.code})"
            return
    if raws is None:
        return
    try:
        want = expected_ops(raws)
    except Unusable as e:
        assert out.code == 2, f"{case.name}: unusable op ({e}) accepted (exit {out.code})"
        return
    got = read_ops(path, drop_torn_tail)
    if got is not None:
        assert _canon(got) == _canon(want), f"{case.name}: read differently from its content"


CODES: Counter[int] = Counter()  # exit codes seen, for the summary


def fuzz(seed: int, count: int, report: Callable[[str], None] | None = None) -> int:
    """Check `count` generated cases; AssertionError at the first broken contract."""
    rnd = random.Random(seed + 1)
    done = 0
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for case in cases(seed, count):
            try:
                check_case(case, tmp, rnd)
            except AssertionError as e:
                keep = Path(tempfile.gettempdir(), f"mvcc-check-fuzz-{seed}-{done}{case.ext}")
                keep.write_bytes(case.data)
                raise AssertionError(f"case {case.name} (input kept in {keep}): {e}") from None
            done += 1
            if report is not None and done % 500 == 0:
                report(f"{done} cases")
    return done


def _main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "1")))
    a = ap.parse_args()
    t0 = time.monotonic()
    n = fuzz(a.seed, a.cases, report=lambda s: print(s, file=sys.stderr, flush=True))
    codes = ", ".join(f"{CODES[c]} exit {c}" for c in sorted(CODES))
    print(
        f"fuzz (input contract): {n} cases, seed {a.seed}, {time.monotonic() - t0:.0f} s "
        f"({codes}): all kept it"
    )


if __name__ == "__main__":
    _main()
