"""Histories: the ops Elle reads, their readers, and the columns the checker works on."""

from mvcc_check.history.columns import Columns, columns_from_ops
from mvcc_check.history.ops import MicroOp, Op
from mvcc_check.history.pairing import TxnColumns, pair_columns
from mvcc_check.history.readers import FORMATS, History, load_history, parse_history_text

__all__ = [
    "FORMATS",
    "Columns",
    "History",
    "MicroOp",
    "Op",
    "TxnColumns",
    "columns_from_ops",
    "load_history",
    "pair_columns",
    "parse_history_text",
]
