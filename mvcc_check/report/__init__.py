"""Rendering of results: one output format per module."""

from mvcc_check.report.json_report import result_json
from mvcc_check.report.text import render_text
from mvcc_check.report.verdict import exit_code_for, overall_exit_code

__all__ = ["exit_code_for", "overall_exit_code", "render_text", "result_json"]
