"""Per-request faults: a plan consumed one per chat request, and what each fault answers.

Faults as litellm 1.110 raises them: "429" ``RateLimitError``, "500" ``InternalServerError``, "503"
``ServiceUnavailableError``, "hang" ``Timeout`` (with a short ``timeout=``), "malformed"
``InternalServerError`` for ``openai/`` but ``APIConnectionError`` for ``ollama_chat/``;
"bad_content" and "illegal" succeed with content that fails validation. Refused requests, which are
never retried: "400" ``BadRequestError`` (a multi-line validation message), "401"
``AuthenticationError`` (its message quotes a key), "404" ``NotFoundError`` (unknown model), "422"
(``BadRequestError`` through ``openai/``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, NamedTuple

BAD_CONTENT = "I think I'll cooperate!"
FAULTS = frozenset(
    {"400", "401", "404", "422", "429", "500", "503", "hang", "malformed", "bad_content", "illegal"}
)


class HTTPFault(NamedTuple):
    """An error response: status, message, OpenAI error type and code, extra headers."""

    status: int
    message: str
    kind: str
    code: str
    headers: dict[str, str] | None = None


#: Faults answered with an HTTP error instead of the policy's reply.
HTTP_FAULTS: dict[str, HTTPFault] = {
    "429": HTTPFault(
        429,
        "rate limit reached (test server fault)",
        "rate_limit_error",
        "rate_limit_exceeded",
        {"Retry-After": "0"},
    ),
    "500": HTTPFault(500, "internal server error (test server fault)", "server_error", "server_error"),
    "503": HTTPFault(503, "service unavailable (test server fault)", "server_error", "service_unavailable"),
    "400": HTTPFault(
        400,
        "2 validation errors:\n  temperature\n    Input should be less than or equal to 2\n"
        "  top_k\n    Extra inputs are not permitted (test server fault)",
        "invalid_request_error",
        "invalid_request_error",
    ),
    "401": HTTPFault(
        401,
        "Incorrect API key provided: sk-testserverFAKEKEY0123456789abcdef (test server fault)",
        "invalid_request_error",
        "invalid_api_key",
    ),
    "404": HTTPFault(
        404,
        "The model does not exist or you do not have access to it (test server fault)",
        "invalid_request_error",
        "model_not_found",
    ),
    "422": HTTPFault(
        422,
        "Unprocessable request: stop\n  must be a list (test server fault)",
        "invalid_request_error",
        "422",
    ),
}


@dataclass
class FaultPlan:
    """Fault names (or None for a normal answer) consumed one per chat request, in order; then, with a
    ``rate``, a fault drawn from ``kinds`` for that share of requests (a seeded RNG of its own)."""

    faults: list[str | None] = field(default_factory=list)
    rate: float = 0.0
    kinds: tuple[str, ...] = ()
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = [f for f in [*self.faults, *self.kinds] if f is not None and f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown faults {unknown}; known: {', '.join(sorted(FAULTS))}")
        if not 0.0 <= self.rate <= 1.0 or (self.rate > 0 and not self.kinds):
            raise ValueError("a fault rate is a share in [0, 1] and needs at least one fault kind")
        self.faults = list(self.faults)
        self._rng = random.Random(self.seed)

    def take(self) -> str | None:
        """The next fault (not thread-safe: the server calls it under its lock)."""
        if self.faults:
            return self.faults.pop(0)
        if self.rate > 0 and self._rng.random() < self.rate:
            return self._rng.choice(self.kinds)
        return None


def illegal(values: list[Any]) -> str:
    """A value not among ``values`` ("Z", "ZZ", ...): what the "illegal" fault picks."""
    bad = "Z"
    while bad in [str(v) for v in values]:
        bad += "Z"
    return bad
