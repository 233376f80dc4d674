"""One counter of LLM usage for the client, the run summary and ``sim summary``: an answer the parser
refused is an invalid answer, not a provider fault; cached calls cost nothing now (their price is saved);
an unpriced model makes the cost unknown."""

from sim.llm.usage import INVALID_ANSWER, LLMUsage


def row(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "prompt_tokens": 10,
        "completion_tokens": 2,
        "http_attempt": 1,
        "error_class": None,
        "cache_hit": False,
        "cost_usd": 0.01,
    }
    return base | fields


def test_an_invalid_answer_is_not_a_fault() -> None:
    usage = LLMUsage()
    usage.add(row(error_class=INVALID_ANSWER))
    usage.add(row(error_class="RateLimitError", http_attempt=1, cost_usd=None, prompt_tokens=None))
    usage.add(row(http_attempt=2))
    assert (usage.calls, usage.faults, usage.retries) == (3, 1, 1)
    assert usage.cost == 0.02 and not usage.cost_unknown


def test_cached_calls_are_saved_cost_and_unpriced_models_unknown() -> None:
    usage = LLMUsage()
    usage.add(row(cache_hit=True))
    usage.add(row(cost_usd=None))
    assert usage.cached == 1 and usage.saved == 0.01 and usage.cost == 0.0 and usage.cost_unknown
    other = LLMUsage()
    other.add(row(cache_hit=True, cost_usd=None))
    usage.merge(other)
    assert usage.calls == 3 and usage.saved_unknown
