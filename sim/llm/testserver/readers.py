"""Reading a schema-less prompt's prose back, through the registered prompt packs.

A completion-style prompt (Akata's, say) carries no answer schema: what it offers is written in the
world's own phrasing, which only that world's prompt pack knows how to read (``read_options``,
``read_last_other_move``). The packs are loaded on first use (``warm()`` does it ahead of time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.llm.testserver.request import Request, texts

if TYPE_CHECKING:
    from sim.prompts import PromptPack


def packs() -> list[PromptPack]:
    """The registered prompt packs (imported once, then cached by ``sim.prompts``)."""
    from sim.prompts import registered_packs

    return registered_packs()


def warm() -> None:
    """Load the prompt packs now, so that no request waits for their import."""
    packs()


def text_options(req: Request) -> list[str]:
    """Labels of the options the last user message offers (else any message, newest first), as the
    prompt pack whose phrasing it uses reads them; [] when no pack reads any."""
    readers = packs()
    for text in texts(req):
        for pack in readers:
            found = pack.read_options(text)
            if found:
                return found
    return []


def last_other_move(req: Request) -> str | None:
    """The other player's most recent move stated in the request's history lines, if a pack reads one."""
    readers = packs()
    for text in texts(req):
        for pack in readers:
            move = pack.read_last_other_move(text)
            if move is not None:
                return move
    return None
