"""What each anomaly means, in plain words, with its source (the table in
`anomalies.py`). Rendering lives in report/."""

from __future__ import annotations

from mvcc_check.analysis.anomalies import descriptions

DESCRIPTIONS: dict[str, str] = descriptions()
