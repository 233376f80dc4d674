"""The run summary of ``roleplay/characterbox-v1`` (``sim run`` and ``sim summary``): how the scenes
ended, what each character did, how the narrator ruled, and the judge's scores when the run has them.

Everything counts each distinct trajectory once (:meth:`RunData.distinct`). Rates carry Wilson
intervals and means bootstrap intervals, both from :mod:`sim.stats`. The narrator's rates are per
ruling: invalid targets per influence ruling, invalid verdicts per verdict, ``dead_as_alive`` per
ruling of either kind (the world counts a dead character named, changed or perceiving). The judge's
scores are the ``characterbox_judge`` evaluator's rows (``sim evaluate``), per agent, character (or
narrator) and dimension; rows ``judge.scene<N>.*`` of a per-scene judge keep their scene in the name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text

from sim.stats import mean, rate
from sim.store.reader import StoreReader
from sim.summaries.model import Section, mean_cell, number, rate_cell

if TYPE_CHECKING:
    from sim.summaries.store import EpisodeRow, RunData, SeatRow

NARRATOR = "narrator"
JUDGE = "characterbox_judge"
#: Character measures of the world's seat metrics, as the table heads them.
ACTS = {"actions": "actions", "reactions": "reactions", "speeches": "speeches"}


@dataclass
class StoreFacts:
    """What the summary reads from the store besides :class:`RunData`: each seat's character, the
    narrator's rulings per episode, and the judge's scores."""

    characters: dict[tuple[int, str], str] = field(default_factory=dict)
    rulings: dict[tuple[int, str], int] = field(default_factory=dict)
    judge: dict[tuple[int, str], dict[str, float | None]] = field(default_factory=dict)


def summary_sections(run: RunData) -> list[Section]:
    """The CharacterBox sections: scene endings, characters, the narrator's rulings and (when the run
    was judged) the judge's scores."""
    episodes = run.distinct()
    facts = store_facts(run)
    who = "seat" if run.by_seat else "agent"
    sections = [
        scene_endings(episodes),
        characters(episodes, facts, who),
        *narrator_sections(episodes, facts, who),
    ]
    judged = judge_scores(episodes, facts, who)
    return sections + ([judged] if judged.rows else [])


def store_facts(run: RunData) -> StoreFacts:
    """Characters per seat, rulings per episode (``influence`` and ``verdict`` events) and the judge's
    rows, for the run's complete episodes."""
    facts = StoreFacts()
    where = "episode_id IN (SELECT id FROM episodes WHERE run_id = :r AND status = 'complete')"
    queries = {
        "seats": f"SELECT episode_id, player_id, game_role FROM seats WHERE {where}",
        "events": f"SELECT episode_id, kind, count(*) FROM events WHERE {where} "
        "AND kind IN ('influence', 'verdict') GROUP BY episode_id, kind",
        "judge": f"SELECT episode_id, player_id, name, value FROM metrics WHERE {where} "
        "AND evaluator = :e AND player_id IS NOT NULL ORDER BY id",
    }
    reader = StoreReader(run.db, read_only=True)
    try:
        with reader.engine.connect() as conn:
            found = {
                k: conn.execute(text(q), {"r": run.run_id, "e": JUDGE}).all() for k, q in queries.items()
            }
    finally:
        reader.engine.dispose()
    facts.characters = {(e, p): str(role) for e, p, role in found["seats"] if role}
    facts.rulings = {(e, kind): int(n) for e, kind, n in found["events"]}
    for e, p, name, value in found["judge"]:
        facts.judge.setdefault((e, p), {})[str(name)] = value
    return facts


def scene_endings(episodes: Sequence[EpisodeRow]) -> Section:
    """Per scene (by its number) and reason: how many plays ended so, and their share of that scene's."""
    counts: dict[tuple[int, str], int] = defaultdict(int)
    plays: dict[int, int] = defaultdict(int)
    for episode in episodes:
        for scene, reason in enumerate(episode.outcome.get("scene_reasons") or (), start=1):
            counts[scene, str(reason)] += 1
            plays[scene] += 1
    section = Section(
        "scene_endings", "how scenes ended", ["scene", "reason", "plays", "share [95% CI]"], label_columns=2
    )
    for (scene, reason), k in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
        section.add(str(scene), reason, k, rate_cell(rate(k, plays[scene])))
    return section


def _label(seat: SeatRow, who: str) -> str:
    """A seat's label in a table: its seat (fixed seats) or its agent."""
    return seat.player_id if who == "seat" else seat.label


def _character_seats(
    episodes: Sequence[EpisodeRow], facts: StoreFacts, who: str
) -> dict[tuple[str, str], list[SeatRow]]:
    """The character seats per (character, seat or agent), in that order."""
    found: dict[tuple[str, str], list[SeatRow]] = defaultdict(list)
    for episode in episodes:
        for seat in episode.seats:
            name = facts.characters.get((episode.id, seat.player_id))
            if seat.role != NARRATOR and name:
                found[name, _label(seat, who)].append(seat)
    return dict(sorted(found.items()))


def characters(episodes: Sequence[EpisodeRow], facts: StoreFacts, who: str = "agent") -> Section:
    """Per character and its seat or agent (``who``): episodes, mean actions, reactions and speeches
    per episode, and the share alive at the end (Wilson interval)."""
    columns = ["character", who, "n", *ACTS.values(), "alive [95% CI]"]
    section = Section(
        "characters", "characters (means per episode; alive: at the end)", columns, label_columns=2
    )
    for (name, label), seats in _character_seats(episodes, facts, who).items():
        means = [number(mean(s.metrics.get(key, 0.0) for s in seats).value) for key in ACTS]
        alive = sum(s.metrics.get("alive", 0.0) > 0 for s in seats)
        section.add(
            name,
            label,
            len(seats),
            *means,
            rate_cell(rate(alive, len(seats))),
        )
    return section


def _narrator_seats(episodes: Sequence[EpisodeRow], who: str) -> dict[str, list[tuple[int, SeatRow]]]:
    """The narrator seats per seat or agent (``who``), each with its episode id."""
    found: dict[str, list[tuple[int, SeatRow]]] = defaultdict(list)
    for episode in episodes:
        for seat in episode.seats:
            if seat.role == NARRATOR:
                found[_label(seat, who)].append((episode.id, seat))
    return dict(sorted(found.items()))


def narrator_sections(episodes: Sequence[EpisodeRow], facts: StoreFacts, who: str = "agent") -> list[Section]:
    """Per narrator seat or agent (``who``): its invalid rulings as rates per ruling (Wilson
    intervals), and its state changes and ``dead_as_alive`` counts per episode (bootstrap intervals)."""
    rulings = Section(
        "narrator",
        "narrator rulings",
        ["narrator", "measure", "count", "rulings", "rate [95% CI]"],
        label_columns=2,
    )
    per_episode = Section(
        "narrator_episodes",
        "narrator per episode",
        ["narrator", "measure", "n", "mean [95% CI]"],
        label_columns=2,
    )
    for agent, seats in _narrator_seats(episodes, who).items():
        influence = sum(facts.rulings.get((e, "influence"), 0) for e, _ in seats)
        verdicts = sum(facts.rulings.get((e, "verdict"), 0) for e, _ in seats)
        measures = (
            ("invalid targets", "invalid_targets", influence),
            ("invalid verdicts", "invalid_verdicts", verdicts),
            ("dead as alive", "dead_as_alive", influence + verdicts),
        )
        for label, key, n in measures:
            k = round(sum(s.metrics.get(key, 0.0) for _, s in seats))
            rulings.add(agent, label, k, n, rate_cell(rate(min(k, n), n)))
        for label, key in (("state changes", "state_changes"), ("dead as alive", "dead_as_alive")):
            per_episode.add(
                agent, label, len(seats), mean_cell(mean(s.metrics.get(key, 0.0) for _, s in seats))
            )
    return [rulings, per_episode]


def judge_scores(episodes: Sequence[EpisodeRow], facts: StoreFacts, who: str = "agent") -> Section:
    """Per character (or the narrator), seat or agent (``who``) and dimension: the judge's valid scores
    and their mean (bootstrap interval), dimensions in the rubric's order; NULL scores are left out of
    the mean, not counted as any value."""
    scores: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for episode in episodes:
        for seat in episode.seats:
            subject = (
                NARRATOR if seat.role == NARRATOR else facts.characters.get((episode.id, seat.player_id))
            )
            for name, value in facts.judge.get((episode.id, seat.player_id), {}).items():
                dimension = name.removeprefix("judge.")
                if dimension.endswith("valid_dimensions") or not subject:
                    continue
                got = scores[subject, _label(seat, who), dimension]
                if value is not None:
                    got.append(float(value))
    section = Section(
        "judge",
        f"judge scores ({JUDGE}, 1-5)",
        ["character", who, "dimension", "n", "mean [95% CI]"],
        label_columns=3,
    )
    for (subject, label, dimension), values in sorted(scores.items(), key=lambda kv: kv[0][:2]):
        section.add(subject, label, dimension, len(values), mean_cell(mean(values)))
    return section
