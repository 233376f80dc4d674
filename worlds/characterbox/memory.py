"""An LLM character's memory: its most recent perceived records verbatim, plus the older ones that best
match the current situation (deterministic lexical retrieval over its OWN history only).

The history is the seat's observation history (what it perceived, nothing else). Each record becomes
one line (:func:`worlds.characterbox.text.describe_record`) tagged with the scene and round it happened
in (read from the ``scene_start`` and ``action`` records themselves). The last ``window`` lines are
shown verbatim; of the older ones, the ``k`` best by Okapi BM25 against a query built from the current
situation (scene description, who is present, what the character reacts to, its current intention)
are recalled, ties broken by recency (newer first), then shown in the order they happened. No network,
no randomness, no model: a small BM25 written here (no library in the lock offers one).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from worlds.characterbox.text import describe_record

BM25_K1 = 1.2
BM25_B = 0.75
_WORD = re.compile(r"[a-z0-9']+")
_STOP = (
    "a an and are as at be but by for from has he her his i in is it its me my of on or she so "
    "that the their them then there they this to was were what when who with you your"
)
#: Words too common to tell two lines apart.
STOPWORDS = frozenset(_STOP.split())


@dataclass(frozen=True)
class Recollection:
    """What a character's prompt shows of its past: recalled older lines, then the recent ones."""

    recalled: tuple[str, ...]
    recent: tuple[str, ...]


def words(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` without stopwords."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def tagged_lines(history: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each perceived record as one line, prefixed with the scene and round it happened in."""
    scene, round_ = 0, 1
    lines = []
    for record in history:
        if record["kind"] == "scene_start":
            scene, round_ = int(record["scene"]), 1
        elif "round" in record:
            round_ = int(record["round"])
        lines.append(f"(scene {scene}, round {round_}) {describe_record(record)}")
    return lines


def bm25_scores(query: Sequence[str], documents: Sequence[Sequence[str]]) -> list[float]:
    """Okapi BM25 of each tokenised document against the tokenised query."""
    if not documents:
        return []
    n = len(documents)
    average = sum(len(d) for d in documents) / n or 1.0
    frequency = Counter(w for d in documents for w in set(d))
    idf = {w: math.log(1 + (n - frequency[w] + 0.5) / (frequency[w] + 0.5)) for w in set(query)}
    scores = []
    for doc in documents:
        counts = Counter(doc)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(doc) / average)
        scores.append(sum(idf[w] * counts[w] * (BM25_K1 + 1) / (counts[w] + norm) for w in idf if counts[w]))
    return scores


def retrieve(query: str, lines: Sequence[str], k: int) -> list[int]:
    """Indices of the ``k`` lines best matching ``query`` (score > 0), ties to the newer line, in the
    order they happened."""
    if k <= 0 or not lines:
        return []
    scores = bm25_scores(words(query), [words(line) for line in lines])
    ranked = sorted((i for i, s in enumerate(scores) if s > 0), key=lambda i: (-scores[i], -i))
    return sorted(ranked[:k])


def recollect(history: Sequence[Mapping[str, Any]], query: str, window: int, k: int) -> Recollection:
    """The last ``window`` records verbatim and the ``k`` older ones that best match ``query``."""
    lines = tagged_lines(history)
    cut = max(len(lines) - window, 0)
    older, recent = lines[:cut], lines[cut:]
    return Recollection(tuple(older[i] for i in retrieve(query, older, k)), tuple(recent))
