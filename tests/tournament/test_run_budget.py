"""A tournament's budget stops scheduling new matches: those in flight finish, the rest stay unplayed
(``not_run`` with the reason) in an ``interrupted`` run that a resume with a larger budget completes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.llm.testserver import TestServer
from sim.tournament.run import run_tournament
from tests.sim_cli import run_sim
from tests.tournament.helpers import write
from tests.tournament.run_helpers import llm_tournament, query


@pytest.mark.slow
def test_a_token_budget_lets_matches_in_flight_finish_and_plays_no_more(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with TestServer("tit_for_tat", latency=0.02) as server:
        path = write(tmp_path, llm_tournament(server.openai_base, budget={"tokens": 1}))
        summary = run_tournament(path, db)
        # Matches 0 and 1 (both with the LLM seat) start together; the first to end spends the budget,
        # the other one finishes, and none of the other ten starts.
        assert (summary.played, summary.not_played) == (2, 10)
        assert summary.stopped is not None and "token budget reached" in summary.stopped
        assert summary.stopped.endswith("10 not played")
        assert query(db, "SELECT status FROM runs") == [("interrupted",)]
        statuses = query(db, "SELECT status, count(*) FROM episodes GROUP BY status ORDER BY status")
        assert statuses == [("complete", 2), ("not_run", 10)]
        [(error,)] = query(db, "SELECT DISTINCT error FROM episodes WHERE status = 'not_run'")
        assert error == summary.stopped
        [(requests,)] = query(db, "SELECT count(*) FROM llm_calls WHERE NOT cache_hit")
        assert requests == server.count > 0

        # A larger budget on the same plan (the budget is not part of it) resumes the run.
        path = write(tmp_path, llm_tournament(server.openai_base, budget={"tokens": 10**9}))
        resumed = run_sim("tournament", path, "--db", db, "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert "12 of 12 matches complete, 0 matches not played" in resumed.stdout
    assert query(db, "SELECT count(*), status FROM runs") == [(1, "complete")]
    assert query(db, "SELECT count(*) FROM episodes WHERE status = 'complete'") == [(12,)]
