"""Differential checks of the verdict: JSON Lines, JSON and EDN give the same one, and
verdicts are monotone in the model hierarchy (property tests)."""

from __future__ import annotations

import io

import orjson
from histgen import check_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from tinydb import (
    FAULTS,
    WORKLOADS,
    concurrent_history,
    dumps,
    plans,
    to_edn,
)

from mvcc_check import CheckOptions, check, parse_history_text
from mvcc_check.analysis import models
from mvcc_check.report import render_text

# -- the three input formats give the same verdict ------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(max_txns=12, keys=(0, 1)),
    slots=st.integers(1, 4),
    seed=st.integers(0, 2**32),
    edn_vector=st.booleans(),
    faulty=FAULTS,
)
def test_formats_agree_and_text_report_renders(workload, txns, slots, seed, edn_vector, faulty):
    text = concurrent_history(workload, txns, slots, seed, faulty=faulty)
    ops = [orjson.loads(line) for line in text.splitlines()]
    edn = to_edn(ops) if edn_vector else "\n".join(to_edn(op) for op in ops)
    results = [
        check(parse_history_text(data, source="h", format=fmt), CheckOptions())
        for data, fmt in ((text, "jsonl"), (dumps(ops), "json"), (edn, "edn"))
    ]
    docs = [orjson.dumps(r.to_json(), option=orjson.OPT_NON_STR_KEYS) for r in results]
    assert docs[0] == docs[1] == docs[2]
    out = io.StringIO()
    render_text(results[0], Console(file=out, width=100), examples=3)
    assert ("VALID" in out.getvalue()) or ("UNDECIDED" in out.getvalue())
    for name in results[0].anomaly_types:
        assert name in out.getvalue()


# -- verdicts are monotone in the model hierarchy ----------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workload=st.sampled_from(WORKLOADS),
    txns=plans(max_txns=12, keys=(0, 1)),
    slots=st.integers(2, 4),
    seed=st.integers(0, 2**32),
    faulty=FAULTS,
)
def test_violating_a_model_violates_every_stronger_one(workload, txns, slots, seed, faulty):
    names = models.REQUIRED_MODEL_NAMES
    text = concurrent_history(workload, txns, slots, seed, faulty=faulty)
    verdicts = {m: check_text(text, m) for m in names}
    for weak in names:
        r = verdicts[weak]
        if r.valid is not False:
            continue
        # The model itself is named among those ruled out ...
        assert models.friendly(models.canonical(weak)) in set(r.not_) | set(r.also_not), (
            weak,
            r.not_,
        )
        # ... and every stronger model is violated too.
        for strong in names:
            if strong != weak and models.canonical(weak) in models.implied_models([strong]):
                assert verdicts[strong].valid is False, (strong, weak, r.anomaly_types)
