"""Inference over the columnar history (history/columns.py): one module per workload."""
