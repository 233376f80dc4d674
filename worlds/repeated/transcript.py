"""The repeated-game transcript: each round with the reasoning behind its moves, a SCoT prediction
shown next to the move the other seat actually played."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.transcript import Formatter, Section, notes_section, value_text
from sim.types import Event


class RepeatedFormatter(Formatter):
    """Rounds, and each LLM seat's prediction and option order for the round it explains."""

    def explains(self, event: Event) -> bool:
        """A noise flip is not the move: the reasoning goes with the round."""
        return event.kind != "noise" and super().explains(event)

    def reasoning(self, rationale: Event, action: Event | None) -> tuple[Section, ...]:
        """Prediction (right or wrong), the option order the seat was shown, any reasoning text."""
        payload = rationale.payload
        notes: Mapping[str, Any] = payload.get("notes") or {}
        sections = []
        if "prediction" in notes:
            sections.append(Section("prediction", prediction_text(rationale, action, notes["prediction"])))
        if "order" in notes:
            sections.append(Section("options shown", value_text(notes["order"])))
        if payload.get("text"):
            sections.append(Section("reasoning", str(payload["text"])))
        sections += [
            notes_section(k.replace("_", " "), v)
            for k, v in notes.items()
            if k not in ("prediction", "order")
        ]
        return tuple(sections)


def prediction_text(rationale: Event, action: Event | None, prediction: Any) -> str:
    """``the other plays J (it played F: wrong)``; without the round, the prediction alone."""
    said = f"the other plays {value_text(prediction)}"
    if action is None or action.kind != "round":
        return said
    others = [m for seat, m in action.payload["moves"].items() if seat != rationale.actor]
    if len(others) != 1:
        return said
    verdict = "right" if others[0] == prediction else "wrong"
    return f"{said} (it played {others[0]}: {verdict})"


formatter = RepeatedFormatter  # the hook sim.transcript looks for
