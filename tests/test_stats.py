"""The shared statistics module: Wilson intervals stay in [0, 1] and have width at n = 1; bootstrap
intervals are deterministic; draws are explicit."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.stats import mean, rate, wilson


@given(st.integers(min_value=1, max_value=10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_stays_in_the_unit_interval_and_holds_the_estimate(case: tuple[int, int]) -> None:
    k, n = case
    low, high = wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert high - low > 0


def test_one_game_gives_a_wide_interval_not_a_point() -> None:
    won = rate(1, 1)
    assert won.value == 1.0 and won.high == 1.0 and won.low == pytest.approx(0.2065, abs=1e-4)


def test_known_wilson_values() -> None:
    # 1 of 20 (as on the old compare page, whose normal approximation gave [0.013, 1.32] for a small n)
    low, high = wilson(1, 20)
    assert (round(low, 4), round(high, 4)) == (0.0089, 0.2361)


def test_draws_count_as_half_only_when_asked() -> None:
    assert rate(2, 4, draws=2).value == 0.5
    assert rate(2, 4, draws=2, draws_as_half=True).value == 0.75
    assert rate(2, 4, draws=2).draws == 2
    with pytest.raises(ValueError):
        rate(3, 4, draws=2)


def test_bootstrap_mean_is_deterministic_and_brackets_the_mean() -> None:
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    first, second = mean(values), mean(values)
    assert first == second
    assert first.low is not None and first.high is not None
    assert first.low < first.value < first.high


def test_mean_without_spread_has_no_interval() -> None:
    assert mean([2.0]).low is None
    assert mean([2.0, 2.0]).low is None
    assert mean([]).value is None
