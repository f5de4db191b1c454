"""The per-op checker that the columnar core replaced, kept as the tests' oracle.

Before the columnar inference went into the product (issue 9) both ran side by
side over a wide corpus with identical results; these modules stay here only so
that the property tests can go on comparing the two on random histories. They
are not part of mvcc-check, and nothing in mvcc_check/ imports them.
"""
