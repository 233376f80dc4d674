"""Avalon's prompt pack: the generic JSON prompt over the world's text, and ReCon's stage templates.

An LLM seat gets the generic prompt (the world's text of the observation, a filled-in example answer
and the allowed values; never the raw JSON Schema). Every JSON stage ends with ``answer.j2``, which
shows the stage's answer format (``answer_format``, from :mod:`sim.answer_examples`); the belief
stage shows ``belief_format``. ReCon and its chain-of-thought baseline (``agents/reasoning/recon.py``)
render their stages from the templates in ``prompts/`` (Wang et al. 2023): ``system.j2`` (the
persona), ``belief.j2``
(first-order perspective), ``act.j2`` (chain of thought), ``formulate.j2`` (THINK, then SPEAK),
``second_order.j2`` (how each role reads the draft), ``refine.j2`` (REVISED THINK and SPEAK) and
``judge.j2`` (a speech scored on six dimensions); ``memory.j2`` and ``answer.j2`` are included parts.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from sim.prompts import PromptPack


class AvalonPromptPack(PromptPack):
    """The generic JSON prompt for LLM seats, and ReCon's stage templates."""

    templates: ClassVar[Path] = Path(__file__).parent / "prompts"
