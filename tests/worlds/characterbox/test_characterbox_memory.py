"""A CharacterBox character's memory and prompts, without a model: deterministic lexical retrieval over
its own history only, top-k in order, and the header line the pack reads back."""

from __future__ import annotations

from sim.prompts import Decision, prompt_pack
from worlds.characterbox.memory import recollect, retrieve, tagged_lines
from worlds.characterbox.prompt_pack import CharacterBoxPromptPack, CharacterBoxPromptSettings

from .helpers import NARRATOR, act, influence, new_world, summary, verdict

PACK = prompt_pack("roleplay/characterbox-v1")
HIDDEN = "Ben finds the silver spoon under the hearthstone"


def test_retrieve_ranks_by_overlap_breaks_ties_to_the_newer_and_keeps_the_order_of_events() -> None:
    lines = [
        "the kettle whistles",  # 0: one match
        "Ann drops the kettle on the stove",  # 1: two matches
        "Ben whistles a tune",  # 2: nothing in common with the query
        "the kettle whistles",  # 3: the same as 0, newer
        "Cal stares out of the window",  # 4: nothing
    ]
    assert retrieve("kettle stove", lines, 2) == [1, 3]  # 1 best; 3 beats 0 by recency; in event order
    assert retrieve("kettle stove", lines, 5) == [0, 1, 3]  # lines without a shared word are never recalled
    assert retrieve("kettle stove", lines, 0) == [] and retrieve("", lines, 3) == []
    assert retrieve("kettle stove", lines, 2) == retrieve("kettle stove", list(lines), 2)  # no randomness


def test_recollect_shows_the_window_verbatim_and_recalls_only_older_lines() -> None:
    history = [
        {"kind": "scene_start", "scene": 1, "title": "T", "time": "t", "location": "l", "description": "d"}
    ]
    history += [
        {"kind": "action", "character": "Ann", "action": f"stirs pot {i}", "speech": "", "leave": False,
         "reaction": False, "round": i}
        for i in range(1, 9)
    ]  # fmt: skip
    memory = recollect(history, "pot 2", window=3, k=1)
    assert memory.recent == tuple(tagged_lines(history)[-3:])
    assert memory.recalled == ("(scene 1, round 2) Ann acts: stirs pot 2",)
    assert recollect(history, "pot 2", window=3, k=1) == memory


def test_a_characters_memory_recalls_nothing_it_did_not_perceive() -> None:
    # Ben is changed privately and alone perceives the outcome; Ann's retrieval, asked with exactly those
    # words, recalls only what Ann saw.
    world = new_world()
    act(world, "knocks over the salt")  # Ann
    influence(world, "Ben", "salt spills on Ben's boots")
    act(world, "kneels by the hearth")  # Ben reacts
    verdict(world, HIDDEN, [{"character": "Ben", "state": {"mood": "HIDDEN-MOOD"}}], ["Ben"])
    act(world, "waits")  # Cal
    verdict(world)
    summary(world, "SUMMARY-ONLY-FOR-THE-NARRATOR")
    obs = world.observe("p0")
    assert isinstance(PACK, CharacterBoxPromptPack)
    settings = CharacterBoxPromptSettings("json", window=0, retrieve_k=50)
    intention = {
        "belief": "b",
        "desire": "d",
        "intention": f"{HIDDEN} HIDDEN-MOOD SUMMARY-ONLY-FOR-THE-NARRATOR",
    }
    context = PACK.view(obs, settings, "act", intention)
    recalled = "\n".join(context["recalled"])
    assert "knocks over the salt" in recalled and "Ben reacts: kneels by the hearth" in recalled
    assert "silver spoon" not in recalled and "HIDDEN-MOOD" not in recalled and "SUMMARY-ONLY" not in recalled
    ben = PACK.view(world.observe("p1"), settings, "act", intention)
    assert any("silver spoon" in line for line in ben["recalled"])  # the check can fail: Ben did see it


def test_the_header_line_is_read_back_as_the_call_key() -> None:
    world = new_world()
    assert isinstance(PACK, CharacterBoxPromptPack)
    ann = PACK.act_prompt(Decision(world.observe("p0"), CharacterBoxPromptSettings("json")))
    assert ann.text.startswith("[scene 1, round 1 | act | Ann] You are Ann.")
    assert PACK.read_call_key(ann.text) == ("act", "Ann", 1, 1)
    act(world, "knocks over the salt")
    rule = PACK.act_prompt(Decision(world.observe(NARRATOR), CharacterBoxPromptSettings("json")))
    assert PACK.read_call_key(rule.text) == ("influence", "Ann", 1, 1)
    assert "GOAL-OF-BEN" in rule.text and "GOAL-OF-BEN" not in ann.text and "GOAL-OF-ANN" in ann.text
    assert PACK.read_call_key("You are playing Among Us") is None
