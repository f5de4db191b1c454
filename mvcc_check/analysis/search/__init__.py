"""The search stage: cycles inside strongly connected components (see find.py)."""
