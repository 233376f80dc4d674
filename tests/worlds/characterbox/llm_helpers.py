"""Helpers for CharacterBox LLM tests: a strict scripted model keyed by the prompts' own header lines,
the glasshouse script, and the hidden-information check over stored prompts."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sim.llm.testserver import Request
from sim.llm.testserver.request import last_user_text, texts
from sim.prompts import prompt_pack
from worlds.characterbox.prompt_pack import CharacterBoxPromptPack

WORLD = "roleplay/characterbox-v1"
Key = tuple[str, str, int, int]  # (stage, who, scene, round)
GARBAGE = "not an answer"


def pack() -> CharacterBoxPromptPack:
    found = prompt_pack(WORLD)
    assert isinstance(found, CharacterBoxPromptPack)
    return found


def key_of(req: Request) -> Key | None:
    """The call key the pack reads from the prompt's header line (on a re-ask: the first question's)."""
    for text in texts(req):
        key = pack().read_call_key(text)
        if key is not None:
            return key
    return None


class StrictScript:
    """A test-server policy answering only the scripted keys; any other call is recorded as unexpected
    and answered with garbage (so the run cannot silently go on as scripted)."""

    def __init__(self, script: dict[Key, Any]):
        self.script = script
        self.asked: Counter[Key] = Counter()
        self.unexpected: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, req: Request) -> str:
        key = key_of(req)
        with self._lock:
            if key is None or key not in self.script:
                self.unexpected.append(repr(key) if key else last_user_text(req)[:80])
                return GARBAGE
            self.asked[key] += 1
        return json.dumps(self.script[key])

    def unused(self) -> list[Key]:
        return [k for k in self.script if not self.asked[k]]


def by_stage(answers: dict[str, Callable[[Key], Any]]) -> Callable[[Request], str]:
    """A lenient policy: the answer of the call's stage (for long runs that are not scripted call by call)."""

    def policy(req: Request) -> str:
        key = key_of(req)
        assert key is not None, last_user_text(req)[:200]
        return json.dumps(answers[key[0]](key))

    return policy


def do(action: str, speech: str = "") -> dict[str, Any]:
    return {"answer": {"action": action, "speech": speech, "leave": False}}


def bdi(who: str, intention: str) -> dict[str, str]:
    return {
        "belief": f"I, {who}, believe the will is not what it seems.",
        "desire": "I want the truth kept safe.",
        "intention": intention,
    }


def ruling(outcome: str, changes: list[dict[str, Any]], seen: list[str]) -> dict[str, Any]:
    return {"answer": {"outcome": outcome, "changes": changes, "perceived_by": seen}}


def affects(target: str | None, impact: str = "") -> dict[str, Any]:
    return {"answer": {"target": target, "impact": impact}}


ALL3 = ["Corvin", "Ilse", "Marta"]
#: Every call of the glasshouse scene, keyed (stage, who, scene, round): Corvin is flushed in round 1
#: and dies in round 2; Marta reacts in round 1, Ilse in round 2.
GLASSHOUSE: dict[Key, Any] = {
    ("bdi", "Corvin", 1, 1): bdi("Corvin", "announce the sale"),
    ("act", "Corvin", 1, 1): do("drains his teacup and holds it out to Marta", "The estate is sold."),
    ("influence", "Corvin", 1, 1): affects("Marta", "the empty cup is pushed into her hands"),
    ("bdi", "Marta", 1, 1): bdi("Marta", "watch Corvin's cup"),
    ("react", "Marta", 1, 1): do("refills the cup from the lime-flower tin", "More, sir?"),
    ("rule", "Corvin", 1, 1): ruling(
        "Corvin drinks again; his face reddens.",
        [{"character": "Corvin", "state": {"mood": "flushed"}}],
        ALL3,
    ),
    ("bdi", "Ilse", 1, 1): bdi("Ilse", "guard the seed cabinet"),
    ("act", "Ilse", 1, 1): do("steps in front of the seed cabinet", "Digitalis purpurea, by the pond."),
    ("rule", "Ilse", 1, 1): ruling("Ilse blocks the cabinet.", [], ALL3),
    ("summary", "narrator", 1, 1): {"text": "Corvin announced the sale and drank; Ilse guarded the cabinet."},
    ("bdi", "Corvin", 1, 2): bdi("Corvin", "get the papers signed"),
    ("act", "Corvin", 1, 2): do("rises from the wicker chair", "Bring me the pen."),
    ("influence", "Corvin", 1, 2): affects(None),
    ("rule", "Corvin", 1, 2): ruling(
        "Corvin clutches his chest, falls, and does not move again.",
        [{"character": "Corvin", "position": "collapsed beside the wicker chair", "state": {"alive": False}}],
        ALL3,
    ),
    ("bdi", "Marta", 1, 2): bdi("Marta", "take the teacup away"),
    ("act", "Marta", 1, 2): do("takes the teacup from the floor", "Was it the tea?"),
    ("influence", "Marta", 1, 2): affects("Ilse", "the cup is held out to her"),
    ("bdi", "Ilse", 1, 2): bdi("Ilse", "smell the cup"),
    ("react", "Ilse", 1, 2): do("sniffs the cup", "Foxglove."),
    ("rule", "Marta", 1, 2): ruling(
        "Ilse goes pale.", [{"character": "Ilse", "state": {"mood": "shaken"}}], ["Ilse", "Marta"]
    ),
    ("summary", "narrator", 1, 2): {"text": "Corvin died; Marta and Ilse found foxglove in the cup."},
    ("bdi", "Marta", 1, 3): bdi("Marta", "hide the tin"),
    ("act", "Marta", 1, 3): do("pockets the tea tin"),
    ("influence", "Marta", 1, 3): affects(None),
    ("rule", "Marta", 1, 3): ruling("The tin vanishes into Marta's apron.", [], ["Marta"]),
    ("bdi", "Ilse", 1, 3): bdi("Ilse", "open the seed cabinet"),
    ("act", "Ilse", 1, 3): do("opens the seed cabinet", "The will is here."),
    ("rule", "Ilse", 1, 3): ruling("Ilse lifts out a folded paper.", [], ["Ilse", "Marta"]),
    ("summary", "narrator", 1, 3): {"text": "Marta hid the tin; Ilse took out the will."},
}


def prompt_of(messages: str) -> str:
    return "\n".join(str(m["content"]) for m in json.loads(messages))


def character_prompt_leaks(conn: sqlite3.Connection) -> tuple[int, list[str]]:
    """Over every stored prompt of a character seat: another character's goal or secret in it."""
    problems, checked = [], 0
    episodes = conn.execute("SELECT episode_id, payload FROM events WHERE kind = 'setup'").fetchall()
    for episode, payload in episodes:
        setup = json.loads(payload)
        seats = setup["seats"]
        hidden = {
            name: [c[k] for k in ("goal", "secret") if c.get(k)] for name, c in setup["characters"].items()
        }
        rows = conn.execute(
            "SELECT player_id, messages FROM llm_calls WHERE episode_id = ?", (episode,)
        ).fetchall()
        for seat, messages in rows:
            me = seats.get(seat)
            if me is None or me == "narrator":
                continue
            checked += 1
            text = prompt_of(messages)
            for name, secrets in hidden.items():
                problems += [
                    f"{seat} ({me}) sees {name}'s {s!r}" for s in secrets if name != me and s in text
                ]
    return checked, problems
