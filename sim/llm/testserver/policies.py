"""Policies: how the test server turns a chat request into the assistant's reply.

Option policies read the requested answer schema first (``response_format`` or Ollama's ``format``)
and pick among its enum values, filling every other required field; a schema-less completion-style
request is answered with a bare label among the options its text offers, as the registered prompt
packs read them (:mod:`sim.llm.testserver.readers`). Nothing here knows any world's phrasing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from typing import Any

from sim.llm.testserver import readers, schema
from sim.llm.testserver.request import Policy, Request, last_user_text
from sim.llm.testserver.schema import DEFAULT_REPLY

#: What :func:`chat_model` answers without a start to continue (SmolLM2's reply to Akata's prompt).
CHAT_MODEL_REPLY = "You should choose the option that gives you the most points."


def answer(req: Request, pick: Callable[[list[Any]], Any]) -> str:
    """The reply choosing among the request's options with ``pick``: schema-shaped JSON, or a bare label."""
    if req.schema is None:
        options = readers.text_options(req)
        return str(pick(options)) if options else DEFAULT_REPLY
    root = schema.resolve(req.schema, req.schema)
    top = schema.choices(root, req.schema)
    if top:
        return json.dumps(pick(top))
    if schema.is_object(root):
        return json.dumps(schema.fill(root, req.schema, pick, lambda: readers.text_options(req)))
    return json.dumps(schema.default(root, req.schema, pick))


def first_option() -> Policy:
    """Always the first option (first enum value per schema property, else the first labelled option)."""
    return lambda req: answer(req, lambda values: values[0])


def fixed(text: str) -> Policy:
    """Always ``text``."""
    return lambda req: text


def sequence(texts: Sequence[str]) -> Policy:
    """The i-th reply is ``texts[i % len(texts)]`` (i is the request index)."""
    items = list(texts)
    if not items:
        raise ValueError("sequence() needs at least one text")
    return lambda req: items[req.index % len(items)]


def random_option(seed: int = 0) -> Policy:
    """A uniformly random option, drawn from ``random.Random(f"{seed}/{index}")``.

    Seeding per request index keeps replies reproducible whatever the thread scheduling; the global
    RNG is never used.
    """
    return lambda req: answer(req, random.Random(f"{seed}/{req.index}").choice)


def tit_for_tat() -> Policy:
    """Repeat the other player's last move (as a prompt pack reads the history), else the first option."""

    def policy(req: Request) -> str:
        other = readers.last_other_move(req)
        return answer(req, lambda values: next((v for v in values if str(v) == other), values[0]))

    return policy


def echo() -> Policy:
    """The last user message's content."""
    return last_user_text


def chat_model(text: str = CHAT_MODEL_REPLY) -> Policy:
    """A chat model given a completion-style prompt (what small instruct models do): it opens a new
    turn and answers ``text`` ("You ...", no label at the answer position), unless it has a start to
    continue: a prefilled trailing assistant message, or a text completion (``/v1/completions``).
    Then it continues with the first option and runs on to a new line (a stop sequence ends it)."""

    def policy(req: Request) -> str:
        prefilled = bool(req.messages) and req.messages[-1].get("role") == "assistant"
        if not (prefilled or req.path in ("/v1/completions", "/completions")):
            return text
        options = readers.text_options(req)
        return f" {options[0]}\n\nQ: In the next round, which option" if options else text

    return policy


POLICIES: dict[str, Callable[..., Policy]] = {
    "first_option": first_option,
    "fixed": fixed,
    "sequence": sequence,
    "random_option": random_option,
    "tit_for_tat": tit_for_tat,
    "echo": echo,
    "chat_model": chat_model,
}


def make_policy(policy: Policy | str, **kwargs: Any) -> Policy:
    """A policy itself, or the one built by ``POLICIES[name](**kwargs)``."""
    if not isinstance(policy, str):
        return policy
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; known: {', '.join(sorted(POLICIES))}")
    return POLICIES[policy](**kwargs)
