"""Strict Akata answer parsing: only the answer position counts (property tests over adversarial outputs).

What is accepted (see ``agents.llm.parsing.parse_option``): one label as the first token, optionally
after whitespace, quotes, ``*``/backticks or "(" and a noun in any case ("Option", "Recipe",
"Approach"), followed by the end, a newline or a non-word character other than ":"; the rest of the
first line must not name another option. Everything else is invalid and re-asked: echoes of the prompt,
answers naming a label later, lower-case or look-alike labels, both labels, empty answers.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agents.llm.parsing import parse_option
from sim.llm.testserver import TestServer
from sim.runner import run_scenario
from sim.scenario import validate_scenario

OPTIONS = ("J", "F")
#: Unicode look-alikes of the labels: Cyrillic Je, Greek Yot, full-width, mathematical and small-caps forms.
LOOKALIKES = {
    "J": ["\u0408", "\u037f", "\uff2a", "\U0001d409", "\u1d0a"],
    "F": ["\uff26", "\U0001d405", "\u03dc"],
}
PREFIXES = ["", " ", "  ", "\n", "\t", "Option ", " Option ", "option ", "OPTION ", '"', "**", "`", "("]
SEPARATORS = ["", ".", "!", ",", ")", '"', "**", " ", "\n", ". ", ";"]
#: Prose that cannot name an option: no label letters, no newline (the first line's rest is checked).
PROSE = st.text(
    alphabet=st.characters(blacklist_characters="JFjf\n", blacklist_categories=["Cs"]), max_size=40
)
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def echo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A run whose model echoes every prompt back (the test server's ``echo`` policy)."""
    db = tmp_path_factory.mktemp("echo") / "echo.db"
    with TestServer("echo") as server:
        # the chat route: the whole prompt is the user message the model echoes
        model = {
            "model": "openai/stub",
            "api_base": server.openai_base,
            "cache": "off",
            "reasks": 1,
            "answer_route": "chat",
        }
        data = {
            "name": "echo",
            "world": "matrix/repeated-v1",
            "params": {"game": "akata_prisoners_dilemma", "rounds": 3, "labels": ["J", "F"]},
            "seats": [{"agent": "llm", "config": {"model": model}}, {"agent": "tit_for_tat"}],
            "seed": 2,
            "db": str(db),
        }
        run_scenario(validate_scenario(data, "echo.yaml"))
    yield db


def _prompts(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT messages FROM llm_calls WHERE attempt = 1").fetchall()
    return [json.loads(m)[-1]["content"] for (m,) in rows]


def test_a_model_that_echoes_the_prompt_never_gives_a_valid_answer(echo_db: Path) -> None:
    with sqlite3.connect(echo_db) as conn:
        calls = conn.execute("SELECT valid, error_class, response FROM llm_calls").fetchall()
        fallbacks = conn.execute("SELECT count(*) FROM events WHERE kind = 'invalid'").fetchone()[0]
    assert len(calls) == 3 * 2 and all(v == 0 and e == "InvalidAnswer" for v, e, _ in calls)
    assert "Option J" in calls[0][2] and "Option F" in calls[0][2]  # the echo names both labels
    assert fallbacks == 3


@SETTINGS
@given(data=st.data())
def test_echoes_of_the_real_prompt_are_rejected(echo_db: Path, data: st.DataObject) -> None:
    prompt = data.draw(st.sampled_from(_prompts(echo_db)))
    lines = prompt.splitlines()
    start = data.draw(st.integers(0, len(lines) - 1))
    echo = "\n".join(lines[start:])  # the prompt, or its tail from any line
    variant = data.draw(
        st.sampled_from(
            [echo, " " + echo, echo + " J", echo + "\nJ", echo.lower(), echo.upper(), "A: " + echo]
        )
    )
    with pytest.raises(ValueError, match="does not name one of the options"):
        parse_option(variant, OPTIONS)


@SETTINGS
@given(
    label=st.sampled_from(OPTIONS),
    prefix=st.sampled_from(PREFIXES),
    separator=st.sampled_from(SEPARATORS),
    prose=PROSE,
    later=st.text(max_size=80),
)
@example(label="J", prefix="", separator=". ", prose="because it pays", later="")
@example(label="F", prefix="Option ", separator="\n", prose="", later="In round 2, Option J and Option F")
def test_a_label_at_the_answer_position_is_accepted(
    label: str, prefix: str, separator: str, prose: str, later: str
) -> None:
    rest = separator + prose if separator else ""
    if rest[:1].isalnum() or rest[:1] in ("_", ":"):
        rest = ""  # a label glued to a word ("JF") or a colon ("J:") is not an answer (tested below)
    assert parse_option(prefix + label + rest + "\n" + later, OPTIONS) == label


@SETTINGS
@given(
    label=st.sampled_from(OPTIONS),
    # a preamble, an echoed "A:"/"Q:" cue or a zero-width space puts the label off the answer position
    prefix=st.sampled_from(["", " ", "Option ", "I choose ", "A: Option ", "Q: ", "My answer: ", "\u200b"]),
    form=st.sampled_from(["lower", "lookalike", "glued", "colon", "both", "later"]),
    prose=PROSE,
)
def test_non_answers_are_rejected(label: str, prefix: str, form: str, prose: str) -> None:
    other = next(o for o in OPTIONS if o != label)
    answer = {
        "lower": prefix + label.lower() + ". " + prose,
        "lookalike": prefix + LOOKALIKES[label][len(prose) % len(LOOKALIKES[label])] + ". " + prose,
        "glued": prefix + label + other + " " + prose,
        "colon": prefix + label + ": " + prose,
        "both": prefix + label + [" or ", "/", ", not ", " or Option ", " and "][len(prose) % 5] + other,
        "later": "I think " + prose + " Option " + label,
    }[form]
    with pytest.raises(ValueError, match="does not name one of the options"):
        parse_option(answer, OPTIONS)


@pytest.mark.parametrize("answer", ["", " ", "\n\n", ".", "Option", "Option ", "**", "{}", "None"])
def test_empty_and_label_free_answers_are_rejected(answer: str) -> None:
    with pytest.raises(ValueError, match="does not name one of the options"):
        parse_option(answer, OPTIONS)


def test_longer_labels_and_other_nouns() -> None:
    assert parse_option("Recipe ZZ, the spicy one", ("Z", "ZZ")) == "ZZ"
    assert parse_option("approach Q\nIn round 2 ...", ("X", "Q")) == "Q"
    with pytest.raises(ValueError):
        parse_option("Q: Which Recipe do you choose, Recipe X or Recipe Q?", ("X", "Q"))
