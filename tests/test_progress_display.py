"""The progress bar of `check`: fed by the reader's byte counts and check()'s stages."""

from __future__ import annotations

from pathlib import Path

from mvcc_check import CheckOptions, check, load_history
from mvcc_check.commands import check as check_command

SHIPPED = Path("histories/lost-update.jsonl")


class FakeBar:
    def __init__(self) -> None:
        self.updates: list[dict] = []

    def update(self, task, **fields) -> None:
        self.updates.append(fields)


def test_every_stage_check_reports_has_a_place_on_the_bar(tmp_path):
    path = "histories/write-skew.edn"
    stages: list[str] = []
    check(load_history(path), CheckOptions(), stages.append)
    assert stages, "check() reported no stage"
    assert all(s.split(" ", 1)[0] in check_command._STAGE_STARTS for s in stages), stages


def test_bar_moves_forward_through_reading_and_stages(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_bytes(SHIPPED.read_bytes())
    bar = FakeBar()
    display = check_command.StageDisplay(bar, 0, str(path), path.stat().st_size)
    display.stage("reading")
    history = load_history(str(path), None, display.bytes_read)
    check(history, CheckOptions(), display.stage)
    done = [u["completed"] for u in bar.updates if "completed" in u]
    assert done == sorted(done) and done[-1] > check_command._READING_SHARE
    assert check_command._READING_SHARE in done  # the whole file was read
    assert any(u.get("description", "").endswith("searching cycles") for u in bar.updates)


def test_reader_reports_bytes_after_each_chunk(tmp_path, monkeypatch):
    from mvcc_check.history import readers

    monkeypatch.setattr(readers, "CHUNK_BYTES", 64)
    path = tmp_path / "h.jsonl"
    data = SHIPPED.read_bytes()
    path.write_bytes(data)
    seen: list[int] = []
    load_history(str(path), None, seen.append)
    assert len(seen) > 1 and seen == sorted(seen) and seen[-1] == len(data)
