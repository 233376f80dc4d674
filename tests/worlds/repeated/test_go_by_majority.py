"""Go By Majority (soft) against Axelrod's own implementation, through the real engine.

Option 0 of the repeated world is Axelrod's C and option 1 its D, whatever the labels.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from agents.scripted import repeated as s
from agents.scripted.replay import ReplayAgent, ReplayConfig
from sim.agent import Agent
from sim.testing import play
from worlds.repeated.params import RepeatedParams
from worlds.repeated.world import RepeatedGameWorld

BENCH = Path(__file__).parents[3] / "bench" / "repeated_tournament.py"

# (opponent, opponent's moves, Go By Majority's moves) produced by axelrod 4.13.0:
# axl.Match((axl.GoByMajority(), opponent), turns=len(moves), seed=seed).play(); "C" is option 0.
# Random opponents are replayed in this engine from the moves axelrod's seeded axl.Random played.
AXELROD_SEQUENCES = [
    ("cooperator", "CCCCCCCCCCCC", "CCCCCCCCCCCC"),  # axl.Cooperator()
    ("defector", "DDDDDDDDDDDD", "CDDDDDDDDDDD"),  # axl.Defector()
    ("alternator", "CDCDCDCDCDCD", "CCCCCCCCCCCC"),  # axl.Alternator(): ties keep it cooperating
    ("alternator_d", "DCDCDCDCDCDC", "CDCDCDCDCDCD"),  # axl.Cycler("DC"): behind, then tied, ...
    ("tit_for_tat", "CCCCCCCCCCCC", "CCCCCCCCCCCC"),  # axl.TitForTat()
    ("random_seed_8", "DCDCDDCDCCCCCCCDDCDDDDDD", "CDCDCDDDDDCCCCCCCCCCCCCD"),  # axl.Random(0.45), seed=8
    ("random_seed_1", "CDDCDCDCDDDCDDCDCCCCCCCD", "CCCDCDCDCDDDDDDDDDDDCCCC"),  # axl.Random(0.45), seed=1
    ("fixed_ties", "DCCDDCDCCDDDCCCD", "CDCCCDCDCCCDDDCC"),  # axl.Cycler("DCCDDCDCCDDDCCCD")
]


def _opponent(name: str, moves: str, labels: tuple[str, str]) -> Agent:
    """Our own strategy for the named opponent, or a replay of the moves axelrod's opponent played."""
    ours: dict[str, Agent] = {
        "cooperator": s.Cooperator(),
        "defector": s.Defector(),
        "alternator": s.Alternator(),
        "alternator_d": s.Alternator(s.AlternatorConfig(start="D")),
        "tit_for_tat": s.TitForTat(),
    }
    return ours.get(name) or ReplayAgent(ReplayConfig(actions=_labelled(moves, labels)))


def _labelled(moves: str, labels: tuple[str, str]) -> list[str]:
    return [labels[0] if m == "C" else labels[1] for m in moves]


def _play_go_by_majority(opponent: Agent, rounds: int, labels: tuple[str, str], seat: str) -> tuple[str, str]:
    """Go By Majority's and the opponent's moves as C/D strings, with Go By Majority in ``seat``."""
    params = RepeatedParams(game="prisoners_dilemma", rounds=rounds, labels=labels)
    other = "p1" if seat == "p0" else "p0"
    _, events, _ = play(RepeatedGameWorld, params, {seat: s.GoByMajority(), other: opponent}, seed=3)
    rounds_played = [e.payload["moves"] for e in events if e.kind == "round"]
    as_cd = {labels[0]: "C", labels[1]: "D"}
    return (
        "".join(as_cd[m[seat]] for m in rounds_played),
        "".join(as_cd[m[other]] for m in rounds_played),
    )


@pytest.mark.parametrize(
    ("name", "theirs", "expected"), AXELROD_SEQUENCES, ids=[a[0] for a in AXELROD_SEQUENCES]
)
@pytest.mark.parametrize(("labels", "seat"), [(("C", "D"), "p0"), (("X", "Q"), "p1")])
def test_go_by_majority_matches_axelrod(
    name: str, theirs: str, expected: str, labels: tuple[str, str], seat: str
) -> None:
    mine, played = _play_go_by_majority(_opponent(name, theirs, labels), len(theirs), labels, seat)
    assert played == theirs
    assert mine == expected


def test_go_by_majority_is_fresh_after_reset() -> None:
    agent = s.GoByMajority()
    params = RepeatedParams(rounds=6)
    for _ in range(2):  # the same instance twice: the second match must not remember the first's defections
        _, events, _ = play(RepeatedGameWorld, params, {"p0": agent, "p1": s.Defector()})
        assert [e.payload["moves"]["p0"] for e in events if e.kind == "round"] == list("CDDDDD")


def _import_axelrod() -> Any:
    """axelrod through the benchmark's importer (it shims ``pkg_resources``); skip when not installed."""
    pytest.importorskip("dask")  # axelrod's ResultSet dependency, part of the bench extra
    if importlib.util.find_spec("axelrod") is None:
        pytest.skip("axelrod is not installed (make .venv/.bench-stamp)")
    spec = importlib.util.spec_from_file_location("bench_repeated_tournament", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module.import_axelrod()


def test_go_by_majority_agrees_with_axelrod_against_random_opponents() -> None:
    axl = _import_axelrod()
    from axelrod.mock_player import MockPlayer

    rng = random.Random(2024)
    for _ in range(60):
        turns = rng.randint(1, 40)
        p_coop = rng.choice((0.3, 0.45, 0.5, 0.55, 0.7))
        theirs = "".join("C" if rng.random() < p_coop else "D" for _ in range(turns))
        match = axl.Match(
            (axl.GoByMajority(), MockPlayer([axl.Action.from_char(m) for m in theirs])), turns=turns
        )
        match.play()
        expected = "".join(str(a) for a in match.players[0].history)
        mine, played = _play_go_by_majority(_opponent("replay", theirs, ("C", "D")), turns, ("C", "D"), "p0")
        assert played == theirs
        assert mine == expected, theirs
