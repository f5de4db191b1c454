"""mvcc-check: find isolation anomalies in transaction histories."""
