"""A reader for the EDN that Jepsen writes (history.edn and friends).

Handles maps, vectors, lists, sets, keywords (read as plain strings without
the colon), strings, characters, integers (with N suffix), floats, ratios as
floats, nil/true/false, symbols (as strings), `#_` discards, and tagged
literals such as `#jepsen.history.Op{...}` or `#inst "..."` (the tag is
dropped, the value kept). Top-level forms are yielded with their line.
Hand-written rather than a library: the PyPI EDN readers are several times
slower on large histories and none reports line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_TOKEN = re.compile(
    r"""
    (?P<ws>[\s,]+|;[^\n]*)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<open>\#\{|[\[\(\{])
  | (?P<close>[\]\)\}])
  | (?P<discard>\#_)
  | (?P<tag>\#[A-Za-z][^\s,\[\]\(\)\{\}"]*)
  | (?P<char>\\(?:newline|space|tab|return|formfeed|backspace|u[0-9a-fA-F]{4}|.))
  | (?P<num>[+-]?\d+(?:/\d+|\.\d*(?:[eE][+-]?\d+)?M?|[eE][+-]?\d+M?|N|M)?(?![^\s,\[\]\(\)\{\}"]))
  | (?P<kw>::?[^\s,\[\]\(\)\{\}"]+)
  | (?P<sym>[^\s,\[\]\(\)\{\}"\#;][^\s,\[\]\(\)\{\}"]*)
    """,
    re.VERBOSE | re.DOTALL,
)

_CHARS = {
    "newline": "\n",
    "space": " ",
    "tab": "\t",
    "return": "\r",
    "formfeed": "\f",
    "backspace": "\b",
}
_STR_ESC = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_ESC = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}
_CLOSERS = {"[": "]", "(": ")", "{": "}", "#{": "}"}


class EdnError(ValueError):
    """Malformed EDN; `line` is 1-based; `at_end` when the text ends too early
    (an unclosed form or string: what a torn last line looks like)."""

    def __init__(self, line: int, why: str, at_end: bool = False) -> None:
        self.line = line
        self.why = why
        self.at_end = at_end
        super().__init__(f"line {line}: {why}")


MAX_DEPTH = 100
"""Forms nested deeper than this are refused (in every format): no history needs
them, and every later pass over a value (comparison, rendering, JSON output) recurses."""

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def check_characters(text: str) -> None:
    """EdnError at the first control character (other than whitespace): EDN has no
    place for one, and read as part of a symbol it would change a value silently."""
    m = _CONTROL.search(text)
    if m is not None:
        line = text.count("\n", 0, m.start()) + 1
        raise EdnError(line, f"control character U+{ord(m.group()):04X} (not EDN)")


def _unescape(body: str) -> str:
    def sub(m: re.Match[str]) -> str:
        e = m.group(1)
        if e[0] == "u" and len(e) == 5:
            return chr(int(e[1:], 16))
        return _ESC.get(e, e)

    return _STR_ESC.sub(sub, body) if "\\" in body else body


MAX_DIGITS = 4300  # Python's own limit for reading an integer from text


def _number(text: str) -> Any:
    """The number a token spells; ValueError (with the reason) when it is out of range."""
    if len(text) > MAX_DIGITS and not ("." in text or "e" in text or "E" in text):
        raise ValueError(f"an integer of more than {MAX_DIGITS} digits")
    if text.endswith("N"):
        return int(text[:-1])
    if text.endswith("M"):
        return _finite(float(text[:-1]), text)
    if "/" in text:
        a, b = text.split("/")
        if int(b) == 0:
            raise ValueError(f"ratio {text} has a zero denominator")
        try:
            return int(a) / int(b)
        except OverflowError:
            raise ValueError(f"ratio {_cut(text)} is out of range") from None
    if "." in text or "e" in text or "E" in text:
        return _finite(float(text), text)
    return int(text)


def _finite(x: float, text: str) -> float:
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(f"number {_cut(text)} is out of range")
    return x


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _freeze(x: Any) -> Any:
    if isinstance(x, list):
        return tuple(_freeze(e) for e in x)
    if isinstance(x, dict):
        return tuple(sorted(((_freeze(k), _freeze(v)) for k, v in x.items()), key=repr))
    if isinstance(x, set):
        return frozenset(x)
    return x


def _char(body: str) -> str:
    """The character a `\\x` literal names (without its backslash)."""
    return _CHARS.get(body, chr(int(body[1:], 16)) if len(body) == 5 and body[0] == "u" else body)


def _collection(opener: str, items: list[Any], open_line: int, closer: str, line: int) -> Any:
    """The vector, list, map or set that `closer` (on `line`) ends."""
    if _CLOSERS[opener] != closer:
        raise EdnError(line, f"{closer!r} closes {opener!r} opened on line {open_line}")
    if opener == "{":
        if len(items) % 2:
            raise EdnError(open_line, "map literal has an odd number of forms")
        it = iter(items)
        return {_freeze(k): v for k, v in zip(it, it, strict=True)}
    if opener == "#{":
        return {_freeze(e) for e in items}
    return items


def iter_forms(text: str) -> Iterator[tuple[int, Any]]:
    """Yield (line, value) for each top-level form in `text`."""
    pos = 0
    line = 1
    n = len(text)
    stack: list[tuple[str, list[Any], int]] = []  # (opener, items, line)
    pending: list[tuple[int, str, int]] = []  # (stack size, "#_" or a tag, line) awaiting a value
    match = _TOKEN.match
    form_line = 1

    def emit(value: Any) -> tuple[bool, Any]:
        """Attach a finished value; returns (top_level_done, value). Tags waiting at
        this depth take the value (and are dropped); a waiting #_ discards it."""
        depth = len(stack)
        while pending and pending[-1][0] == depth:
            _, what, _ = pending.pop()
            if what == "#_":
                return False, None
        if stack:
            stack[-1][1].append(value)
            return False, None
        return True, value

    def no_value(depth: int, at: int | None = None) -> None:
        """EdnError if a tag or #_ at this depth still waits for its value (at the
        closing line `at`, else where the tag is)."""
        if pending and pending[-1][0] == depth:
            _, what, where = pending[-1]
            what = "#_" if what == "#_" else f"tag {_cut(what)}"
            raise EdnError(where if at is None else at, f"{what} with no value after it")

    while pos < n:
        m = match(text, pos)
        if m is None:
            if text[pos] == '"':
                raise EdnError(line, "unterminated string", at_end=True)
            raise EdnError(line, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup
        tok = m.group()
        start_line = line
        line += tok.count("\n")
        pos = m.end()
        if kind == "ws":
            continue
        if not stack and not (pending and pending[-1][0] == 0):
            form_line = start_line
        if kind == "open":
            if len(stack) >= MAX_DEPTH:
                raise EdnError(start_line, f"forms nested more than {MAX_DEPTH} deep")
            stack.append((tok, [], start_line))
            continue
        if kind == "discard" or kind == "tag":
            pending.append((len(stack), tok, start_line))  # a tag is dropped, its value kept
            continue
        if kind == "close":
            if not stack:
                raise EdnError(start_line, f"unmatched {tok!r}")
            no_value(len(stack), start_line)
            value: Any = _collection(*stack.pop(), tok, start_line)
        elif kind == "str":
            value = _unescape(tok[1:-1])
        elif kind == "num":
            try:
                value = _number(tok)
            except ValueError as e:
                raise EdnError(start_line, str(e)) from None
        elif kind == "kw":
            value = tok.lstrip(":")
        elif kind == "char":
            value = _char(tok[1:])
        else:  # symbol
            value = {"nil": None, "true": True, "false": False}.get(tok, tok)
        done, v = emit(value)
        if done:
            yield form_line, v
    if stack:
        opener, _, open_line = stack[0]
        raise EdnError(open_line, f"{opener!r} is never closed (file ends first)", at_end=True)
    no_value(0)


def loads_all(text: str) -> list[Any]:
    """Every top-level form of `text`."""
    return [v for _, v in iter_forms(text)]


# --- A fast path for the common shape: one flat op map per line -------------
#
# Jepsen writes history.edn one op per line. Lines without strings, comments,
# tags, characters or suffixed numbers can be rewritten to JSON with a few
# C-speed regular expressions and parsed by orjson in one call; every other
# line goes through the exact reader above. Maps become arrays that start
# with a marker and are turned back into dicts afterwards.

_PLAIN_LINE = re.compile(rb'^\{[^"\\;#\n]*\}[ \t,]*$', re.MULTILINE)
_NEEDS_EXACT = re.compile(
    rb"\d[NM]\b|\d/\d|\d{19}"
)  # suffixes, ratios, integers orjson would round
_KEYWORD = re.compile(rb":([A-Za-z*+!_?<>=.\-][A-Za-z0-9*+!_?<>=/.\-]*)")
_MAP_MARK = "\u0001m"


def _unmark(x: Any) -> Any:
    if type(x) is list:
        if x and x[0] == _MAP_MARK:
            it = iter(x[1:])
            return {_freeze(_unmark(k)): _unmark(v) for k, v in zip(it, it, strict=True)}
        return [_unmark(e) for e in x]
    return x


def fast_forms(text: str) -> list[tuple[int, Any]] | None:
    """(line, value) for every top-level form, or None when this fast path does not apply."""
    import orjson

    data = text.encode()
    lines = data.split(b"\n")
    plain = [
        i
        for i, ln in enumerate(lines)
        if _PLAIN_LINE.match(ln)
        and not _NEEDS_EXACT.search(ln)
        and ln.count(b"[") < MAX_DEPTH  # (deeper nesting needs more: the exact reader refuses it)
    ]
    if not plain:
        return None
    plain_set = set(plain)
    for i, ln in enumerate(
        lines
    ):  # the other lines must each be blank or a whole form of their own
        if (
            i not in plain_set
            and ln.strip()
            and not (ln.lstrip().startswith(b"{") and ln.rstrip().endswith(b"}"))
        ):
            return None
    body = b"\n".join(lines[i] for i in plain)
    body = body.replace(b"\t", b" ").replace(b",", b" ")
    while b"  " in body:
        body = body.replace(b"  ", b" ")
    for _ in range(2):  # twice: adjacent nils share the space between them
        for pre in (b" ", b"["):
            for post in (b" ", b"]", b"}", b"\n"):
                body = body.replace(pre + b"nil" + post, pre + b"null" + post)
    # Keywords become strings; the few distinct ones are replaced literally (a
    # template substitution per match would cost more than the rest together).
    for kw in sorted(set(_KEYWORD.findall(body)), key=len, reverse=True):
        quoted = b'"' + kw + b'"'
        for end in (b" ", b"]", b"}", b"\n"):
            body = body.replace(b":" + kw + end, quoted + end)
        if body.endswith(b":" + kw):
            body = body[: -len(kw) - 1] + quoted
    body = body.replace(b"{}", b'["\\u0001m"]')
    for a, b in ((b"[ ", b"["), (b"{ ", b"{"), (b" ]", b"]"), (b" }", b"}"), (b" \n", b"\n")):
        body = body.replace(a, b)
    body = body.replace(b" ", b",")
    body = body.replace(b"{", b'["\\u0001m",').replace(b"}", b"]")
    try:
        values = orjson.loads(b"[" + body.replace(b"\n", b",") + b"]")
    except orjson.JSONDecodeError:
        return None
    if len(values) != len(plain):
        return None
    try:  # a map with an odd number of forms or an unhashable key: leave it to the exact reader
        if body.count(b"\\u0001m") == len(plain):
            # Only the top-level maps are maps: pair them up without walking the values.
            out: dict[int, Any] = {}
            for i, v in zip(plain, values, strict=True):
                it = iter(v)
                next(it)
                out[i + 1] = dict(zip(it, it, strict=True))
        else:
            out = {i + 1: _unmark(v) for i, v in zip(plain, values, strict=True)}
    except (ValueError, TypeError):
        return None
    for i, ln in enumerate(lines):
        if i not in plain_set and ln.strip():
            forms = loads_all(ln.decode())
            if len(forms) != 1:
                return None
            out[i + 1] = forms[0]
    return sorted(out.items())
