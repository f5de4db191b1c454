"""Hermitage judged: run each scenario at a level (db/hermitage.py produces its history
and the scenario's own verdict), judge the history in memory against the level's
claimed model, and say whether the checker agrees with the scenario."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mvcc_check.analysis.checker import CheckOptions, Result, Verdict
from mvcc_check.db.dialects import session_class
from mvcc_check.db.hermitage import (
    ScenarioResult,
    checker_agrees,
    default_levels,
    engine_bugs,
    engine_claims,
    engine_levels,
    run_scenario,
    scenarios_for,
)
from mvcc_check.db.hermitage_predicate import predicate_ops
from mvcc_check.db.hermitage_scenarios import Scenario
from mvcc_check.db.hermitage_table import hermitage_row
from mvcc_check.db.target import DbTarget
from mvcc_check.errors import MvccCheckError, OptionError, Undecided
from mvcc_check.history.ops import CLOSED_PREDICATE
from mvcc_check.lab.judge import judge


def judge_scenario(res: ScenarioResult, model: str) -> tuple[set[str], Result]:
    """The checker's findings on a scenario's history: (all anomaly types, the verdict)."""
    pred = predicate_ops(res.scenario, res.observation, res.ops)  # G2, not G2-item
    workload = "list-append" if pred is None else CLOSED_PREDICATE
    options = CheckOptions(models=(model,), workload=workload)
    ops = res.ops if pred is None else pred
    result = judge(ops, options, source=f"hermitage {res.scenario} {res.level}")
    return set(result.all_anomaly_types or result.anomaly_types), result


@dataclass(frozen=True)
class ScenarioRun:
    """One scenario at one level: what the database did and what the checker found."""

    scenario: Scenario
    res: ScenarioResult
    found: frozenset[str]
    result: Result
    agrees: bool
    history_path: Path | None


@dataclass(frozen=True)
class LevelRun:
    """Every chosen scenario at one level, judged against the level's claimed model."""

    level: str
    model: str
    scenarios: tuple[ScenarioRun, ...]

    @property
    def violated(self) -> list[str]:
        """The scenarios whose history the claimed model rejects."""
        return [s.scenario.name for s in self.scenarios if s.result.verdict is Verdict.INVALID]

    @property
    def hermitage_row(self) -> dict[str, str]:
        return hermitage_row({s.scenario.name: s.res.verdict for s in self.scenarios})


@dataclass(frozen=True)
class Plan:
    """What `hermitage` runs on a target: levels (with their claims) and scenarios."""

    target: DbTarget
    levels: tuple[str, ...]
    claims: dict[str, str]
    scenarios: tuple[Scenario, ...]


def plan(
    target: DbTarget, levels: Sequence[str], names: Sequence[str], normalize: Callable[[str], str]
) -> Plan:
    """The levels and scenarios asked for (default: all the target offers); OptionError
    names a level the target does not offer or a scenario it does not know."""
    if target.kind == "engine":
        from mvcc_check.engine import get_bug

        try:
            for b in engine_bugs(target.url):
                get_bug(b)
        except ValueError as e:
            raise OptionError(str(e)) from None
        offered = engine_levels()
        chosen_levels = tuple(levels) or offered
        claims = {lv: engine_claims(lv) for lv in offered}
    else:
        cls = session_class(target)
        offered = cls.levels
        chosen_levels = tuple(normalize(lv) for lv in levels) or default_levels(target.kind)
        claims = cls.claimed_models
    for lv in chosen_levels:
        if lv not in offered:
            raise OptionError(
                f"{target.kind} does not offer isolation level {lv!r} (it offers {', '.join(offered)})"
            )
    known = {s.name.lower(): s for s in scenarios_for(target.kind)}
    chosen = []
    for name in names:
        if name.lower() not in known:
            raise OptionError(
                f"unknown scenario {name!r} (known here: {', '.join(s.name for s in known.values())})"
            )
        chosen.append(known[name.lower()])
    return Plan(target, chosen_levels, claims, tuple(chosen or scenarios_for(target.kind)))


def run_level(
    p: Plan,
    level: str,
    save_dir: str | None,
    on_scenario: Callable[[ScenarioRun], None] | None = None,
) -> LevelRun:
    """Run and judge every scenario of the plan at `level`; `on_scenario` sees each as it
    ends. A database error nobody understands is Undecided (no verdict)."""
    model = p.claims[level]
    target = p.target
    runs = []
    for sc in p.scenarios:
        hp = Path(save_dir, f"{target.kind}-{level}-{sc.name}.jsonl") if save_dir else None
        try:
            res = run_scenario(target, level, sc, history_path=hp)
        except MvccCheckError:
            raise
        except Exception as e:  # a database error we do not understand: say it, no verdict
            raise Undecided(f"{sc.name} at {level}: {type(e).__name__}: {e}") from e
        found, result = judge_scenario(res, model)
        agree = checker_agrees(sc, res.verdict, found)
        one = ScenarioRun(sc, res, frozenset(found), result, agree, hp)
        if on_scenario is not None:
            on_scenario(one)
        runs.append(one)
    return LevelRun(level, model, tuple(runs))


def server_version(target: DbTarget) -> str:
    """What the target says it is (the built-in engine: which bugs it runs with)."""
    from mvcc_check.db.dialects import open_session

    if target.kind == "engine":
        bugs = target.url.split(":", 1)[1]
        return "mvcc-check built-in engine" + (f" with bugs {bugs}" if bugs else "")
    s = open_session(target)
    try:
        return s.server_version()
    finally:
        s.close()
