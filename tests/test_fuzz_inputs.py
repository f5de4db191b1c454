"""The input contract under a short, seeded fuzz round (the long one: `make fuzz`)."""

from __future__ import annotations

import os

from fuzz_inputs import fuzz

CASES = int(os.environ.get("MVCC_CHECK_FUZZ_CASES", "300"))


def test_every_generated_input_keeps_the_contract():
    assert fuzz(seed=15, count=CASES) >= CASES * 0.9  # (a few data mutations cannot be written)
