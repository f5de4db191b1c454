"""Histories: the ops Elle reads, their readers, and transactions built from them."""

from mvcc_check.history.ops import MicroOp, Op
from mvcc_check.history.readers import FORMATS, History, load_history, parse_history_text
from mvcc_check.history.txns import Txn, TxnHistory, build_txns

__all__ = [
    "FORMATS",
    "History",
    "MicroOp",
    "Op",
    "Txn",
    "TxnHistory",
    "build_txns",
    "load_history",
    "parse_history_text",
]
