"""One click command per module; mvcc_check.cli registers them."""
