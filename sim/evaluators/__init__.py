"""Evaluators: score stored episodes after a run (or later with ``sim evaluate``) into tagged metric rows.

The contract is in :mod:`sim.evaluators.base`, reading episodes in :mod:`sim.evaluators.stored`, and
the driver that runs evaluators and writes their rows in :mod:`sim.evaluators.driver`.
"""

from sim.evaluators.base import (
    EvaluationError,
    Evaluator,
    EvaluatorConfig,
    MetricRow,
    StoredEpisode,
    StoredSeat,
)

__all__ = ["EvaluationError", "Evaluator", "EvaluatorConfig", "MetricRow", "StoredEpisode", "StoredSeat"]
