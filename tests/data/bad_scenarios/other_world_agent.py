"""A test-only agent that plays a world other than matrix/repeated-v1 (used by agent_for_other_world.yaml).

Imported by the scenario as ``other_world_agent:OtherWorldAgent``; the tests put this folder on PYTHONPATH.
"""

from __future__ import annotations

from typing import ClassVar

from agents.scripted.base import ScriptedAgent


class OtherWorldAgent(ScriptedAgent):
    """A bot that only plays the (imaginary) grid/other-v1 world."""

    worlds: ClassVar[tuple[str, ...] | None] = ("grid/other-v1",)
