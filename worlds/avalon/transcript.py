"""The Avalon transcript: speeches for the chat view, sides for colouring (omniscient view only), and
ReCon's stages as labelled sections (belief as a table, THINK/SPEAK, second-order analysis, revision).

A ReCon or chain-of-thought rationale holds (see :mod:`agents.reasoning.recon`): ``text``, the final
THINK; ``notes.belief`` (seat -> role, evil_probability, certain); ``notes.draft``, the first THINK and
its SPEAK or choice; ``notes.analysis``, the second-order analysis; ``notes.failed_stages``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sim.transcript import Formatter, Section, TranscriptEntry, notes_section, value_text
from sim.types import Event, PlayerId
from worlds.avalon.roles import Role
from worlds.avalon.text import describe_event, role_title

DRAFT_ANSWERS = {"speak": "SPEAK", "choice": "answer", "choices": "team"}
ROLES = {r.value for r in Role}


class AvalonFormatter(Formatter):
    """Avalon's entries and ReCon's reasoning."""

    def world_line(self, event: Event) -> str:
        """The world's own line for the event."""
        return describe_event(event)

    def entry(self, event: Event) -> TranscriptEntry:
        """Speeches and the evil conference also go to the chat view."""
        entry = super().entry(event)
        if event.kind in ("speech", "confer"):
            p = event.payload
            audience = "to evil" if event.kind == "confer" else ""
            return TranscriptEntry(
                event.turn, p["player"], event.kind, entry.title, event.visible_to, str(p["text"]), audience
            )
        return entry

    def reasoning(self, rationale: Event, action: Event | None) -> tuple[Section, ...]:
        """ReCon's stages in order, then anything else the agent noted."""
        payload = rationale.payload
        notes: Mapping[str, Any] = payload.get("notes") or {}
        sections = []
        if notes.get("belief"):
            sections.append(Section("belief", table=belief_rows(notes["belief"])))
        draft: Mapping[str, Any] = notes.get("draft") or {}
        if draft.get("think"):
            sections.append(Section("THINK", str(draft["think"])))
        for key, label in DRAFT_ANSWERS.items():
            if key in draft:
                sections.append(Section(label, value_text(draft[key])))
        if notes.get("analysis"):
            sections.append(Section("second-order analysis", str(notes["analysis"])))
        final = payload.get("text")
        if final and final != draft.get("think"):
            sections.append(Section("revised THINK", str(final)))
        played = None if action is None else action_value(action, str(rationale.actor))
        drafted = next((draft[k] for k in DRAFT_ANSWERS if k in draft), None)
        if draft and played is not None and played != drafted:
            sections.append(Section("revised answer", value_text(played)))
        if notes.get("failed_stages"):
            failed = notes["failed_stages"]
            sections.append(Section("failed stages", "\n".join(f"{s}: {why}" for s, why in failed.items())))
        known = {"belief", "draft", "analysis", "failed_stages"}
        sections += [notes_section(k.replace("_", " "), v) for k, v in notes.items() if k not in known]
        return tuple(sections)

    def sides(self, events: Sequence[Event]) -> Mapping[PlayerId, str]:
        """Each seat's side from the deal (visible to nobody, so only in the omniscient view)."""
        deal = next((e for e in events if e.kind == "setup"), None)
        if deal is None:
            return {}
        return {seat: Role(role).side.value for seat, role in deal.payload["roles"].items()}


def action_value(action: Event, seat: str) -> Any:
    """What ``seat`` played in ``action`` (a speech's text, a team, a vote, a card, a target), or None."""
    p = action.payload
    values = {
        "speech": p.get("text"),
        "confer": p.get("text"),
        "proposal": p.get("team"),
        "quest_card": p.get("card"),
        "assassination": p.get("target"),
        "vote": (p.get("votes") or {}).get(seat),
    }
    return values.get(action.kind)


def belief_rows(belief: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, str], ...]:
    """A belief (seat -> role, P(evil), certain) as table rows."""
    rows = []
    for seat, b in belief.items():
        role = str(b.get("role", "unknown"))
        rows.append(
            {
                "seat": seat,
                "role": role_title(role) if role in ROLES else role,
                "P(evil)": f"{float(b.get('evil_probability', 0)):.2f}",
                "certain": "yes" if b.get("certain") else "no",
            }
        )
    return tuple(rows)


formatter = AvalonFormatter  # the hook sim.transcript looks for
