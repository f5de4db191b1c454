"""elle-cli compatible JSON: valid?, anomaly-types, anomalies, not, also-not."""

from __future__ import annotations

import sys
from typing import Any

import orjson

from mvcc_check.analysis.checker import Result
from mvcc_check.analysis.columnar.excluded import REASON as EXCLUDED_REASON


def result_json(result: Result) -> dict[str, Any]:
    out = result.to_json()
    out["history"] = result.source
    out["workload"] = result.workload
    out["models"] = list(result.models)
    out["stats"] = result.stats
    if result.excluded_keys:  # the verdict covers only the other keys: never a plain "valid"
        out["partial?"] = True
        out["excluded-keys"] = {
            "count": len(result.excluded_keys),
            "keys-left": result.keys_left,
            "reason": EXCLUDED_REASON,
            "keys": result.excluded_keys,
        }
    return out


def dump_bytes(doc: Any) -> bytes:
    """`dumps` as UTF-8 bytes with the closing newline: for big documents, without the
    decoding, copying and re-encoding a str costs (0.26 s of 71 MB at 1M transactions)."""
    try:
        return orjson.dumps(
            doc,
            option=orjson.OPT_NON_STR_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE,
            default=_default,
        )
    except TypeError:
        return (dumps(doc) + "\n").encode()


def write_json(doc: Any) -> None:
    """Write the document to standard output as `dumps` does, a newline after it."""
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write(dumps(doc) + "\n")
        return
    out.flush()
    buffer.write(dump_bytes(doc))
    buffer.flush()


def dumps(doc: Any) -> str:
    """The document as indented JSON. orjson is fast but refuses integers beyond 64
    bits and values nested over 255 deep, both of which a history may hold: then
    msgspec, which writes any integer exactly, does it."""
    try:
        return orjson.dumps(
            doc, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_INDENT_2, default=_default
        ).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        import msgspec

        raw = msgspec.json.encode(_str_keys(doc), enc_hook=_default)
        return msgspec.json.format(raw, indent=2).decode()


def _str_keys(x: Any) -> Any:
    """Dict keys as JSON writes them (orjson's OPT_NON_STR_KEYS, for msgspec)."""
    if isinstance(x, dict):
        return {k if isinstance(k, str) else _key(k): _str_keys(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_str_keys(e) for e in x]
    return x


def _key(k: Any) -> str:
    if k is None or isinstance(k, bool):
        return {None: "null", True: "true", False: "false"}[k]
    return str(k)


def _default(x: Any) -> Any:
    if isinstance(x, set | frozenset | tuple):
        return list(x)
    raise TypeError(f"cannot encode {type(x).__name__}")
