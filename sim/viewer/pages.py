"""The viewer's pages: runs and episodes, one episode (replay, live, LLM calls), comparisons."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from sim.transcript import describe, transcript, world_of
from sim.types import Event
from sim.viewer.charts import heatmap
from sim.viewer.data import ViewerData, counts_text, is_missing, outcome_text, visible_events
from sim.viewer.renderers import EpisodeView, event_table, renderer_for
from sim.viewer.tables import DRAW_NOTE, agent_table, role_table
from sim.viewer.tournament_view import is_tournament, tournament_section
from sim.viewer.transcript_view import render_transcript

OMNISCIENT = "omniscient"
EPISODE_COLUMNS = [
    "episode",
    "outcome",
    "scores",
    "status",
    "turns",
    "run",
    "matchup",
    "world",
    "agents",
    "models",
]
"""The episodes table's columns, in order: what a reader looks for first, the rest after."""


def _query_int(name: str) -> int | None:
    value = st.query_params.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# runs ------------------------------------------------------------------------------------------
def runs_page(data: ViewerData) -> None:
    """Filterable runs and episodes; a selected episode opens through its deep link."""
    st.title("Runs")
    runs = data.runs()
    if runs.empty:
        st.info("This store has no runs yet. Play one with `sim run SCENARIO.yaml`.")
        return
    st.dataframe(
        runs.assign(compare=[f"?page=compare&run={i}" for i in runs["id"]]),
        hide_index=True,
        width="stretch",
        column_order=[
            "id",
            "name",
            "status",
            "complete",
            "episodes",
            "unfinished",
            "compare",
            "world",
            "seed",
        ],
        column_config={"compare": st.column_config.LinkColumn("compare", display_text="compare agents")},
    )
    for run in runs[runs["status"] == "dead"].itertuples():
        st.warning(
            f"Run {run.id} ({run.name}) is dead: it is still marked running but its process is gone, so its"
            " running and pending episodes will not finish (`sim run SCENARIO --resume` continues it)."
        )
    episodes = data.episodes()
    st.subheader("Episodes")
    cols = st.columns(5)
    worlds = cols[0].multiselect("world", sorted(episodes["world"].unique()))
    agents = cols[1].multiselect("agent", sorted({a for s in episodes["agents"] for a in s.split(", ") if a}))
    models = cols[2].multiselect("model", sorted({m for s in episodes["models"] for m in s.split(", ") if m}))
    outcome = cols[3].text_input("outcome contains")
    run_ids = cols[4].multiselect("run", sorted(episodes["run"].unique()))
    shown = episodes
    if worlds:
        shown = shown[shown["world"].isin(worlds)]
    if agents:
        shown = shown[shown["agents"].map(lambda s: any(a in s.split(", ") for a in agents))]
    if models:
        shown = shown[shown["models"].map(lambda s: any(m in s.split(", ") for m in models))]
    if outcome:
        shown = shown[shown["outcome"].str.contains(outcome, case=False, regex=False)]
    if run_ids:
        shown = shown[shown["run"].isin(run_ids)]
    if len(shown) and shown["started_at"].notna().any():
        dates = pd.to_datetime(shown["started_at"])
        first, last = dates.min().date(), dates.max().date()
        if first < last:
            picked = st.slider("date", min_value=first, max_value=last, value=(first, last))
            shown = shown[dates.dt.date.between(*picked) | dates.isna()]  # pending: not started yet
    shown = shown.assign(episode=[f"?episode={i}" for i in shown["id"]])
    st.dataframe(
        shown[[*EPISODE_COLUMNS, "started_at"]],
        hide_index=True,
        width="stretch",
        column_config={
            "episode": st.column_config.LinkColumn("episode", display_text=r"\?episode=(\d+)", width="small")
        },
    )
    st.caption(
        f"{len(shown)} of {len(episodes)} episodes. Open one with `?episode=ID`."
        " Click an episode's number to open it; unfinished episodes have no outcome yet, their status says"
        " where they are."
    )


# one episode ------------------------------------------------------------------------------------
def episode_page(data: ViewerData) -> None:
    """Replay (turn slider, step buttons, view as a seat), live tail, LLM calls, generic events."""
    ids = data.episode_ids()
    if not ids:
        st.info("This store has no episodes yet.")
        return
    episode_id = _query_int("episode")
    if episode_id not in ids:
        if episode_id is not None:
            st.warning(f"There is no episode {episode_id} in this store.")
        episode_id = ids[-1]
    episode_id = st.sidebar.selectbox("episode", ids, index=ids.index(episode_id))
    st.query_params["episode"] = str(episode_id)
    episode = data.episode(int(episode_id))
    live = bool(episode["live"])
    st.title(f"Episode {episode_id}")
    seats = data.seats(int(episode_id))
    options = [OMNISCIENT, *seats["player_id"]]
    wanted = st.query_params.get("seat", OMNISCIENT)
    omniscient = wanted not in options or wanted == OMNISCIENT
    # A seat's view names seats by id and agent type only: labels are free text and may name a role.
    name = (lambda p: _label(seats, p)) if omniscient else (lambda p: _agent(seats, p))
    heading = episode["matchup"] if omniscient else " vs ".join(f"{p} {name(p)}" for p in seats["player_id"])
    st.caption(
        f"{episode['world_id']} · run {episode['run_id']} · {heading or 'no seats yet'}"
        f" · status {episode['shown_status']}"
    )
    _status_note(episode)
    seat_choice = st.selectbox(
        "view as",
        options,
        index=options.index(wanted) if wanted in options else 0,
        format_func=lambda p: p if p == OMNISCIENT else f"{p} ({name(p)})",
        help="omniscient shows every event and the seats' labels; a seat shows exactly what that seat"
        " observed, and names the seats by id and agent type",
    )
    if seat_choice != wanted:
        st.query_params["seat"] = seat_choice
        if omniscient != (seat_choice == OMNISCIENT):
            st.rerun()  # the heading and seat names above depend on the view
    seat = None if seat_choice == OMNISCIENT else seat_choice
    tabs = st.tabs(["Game", "LLM calls", "Events"])
    state_key = f"events-{episode_id}"

    # The fragment re-runs alone every second while the episode is live; it may only draw into its
    # own body (so it is called inside the Game tab) and tails new event rows by id.
    @st.fragment(run_every=1.0 if live else None)
    def game() -> None:
        known: list[tuple[int, Event]] = st.session_state.setdefault(state_key, [])
        last_id = known[-1][0] if known else 0
        known.extend(data.events(int(episode_id), after_id=last_id))
        current = data.episode(int(episode_id))
        if live and (current["shown_status"] != episode["shown_status"] or not current["live"]):
            st.rerun()  # started (seats), finished or its run died while we watched: redraw the page once
        _game_tab(data, current, seats, visible_events(known, seat), seat)

    with tabs[0]:
        game()
    with tabs[1]:
        _llm_calls(data, int(episode_id), seat)
    with tabs[2]:
        events = visible_events(st.session_state.get(state_key, []), seat)
        st.dataframe(event_table([e for _, e in events]), hide_index=True, width="stretch")


def _status_note(episode: dict[str, Any]) -> None:
    """Why an episode that is not complete has no outcome, and whether it ever will."""
    status, turns = episode["status"], episode["turns"]
    played = f" after {turns} turns" if turns is not None else ""
    if episode["stranded"]:
        why = "the run's process is gone" if episode["run_status"] == "dead" else "the run has ended"
        st.warning(f"Status {episode['shown_status']}: {why}, so this episode will not finish.")
    elif status == "failed":
        st.error(f"This episode failed{played}: {episode['error'] or 'no error recorded'}")
    elif status == "interrupted":
        st.warning(f"This episode was interrupted{played}; it has no outcome.")
    elif status == "not_run":
        st.info("This episode was planned but never played (not_run).")


def _label(seats: pd.DataFrame, player: str, column: str = "label") -> str:
    row = seats[seats["player_id"] == player]
    return str(row[column].iloc[0]) if len(row) else player


def _agent(seats: pd.DataFrame, player: str) -> str:
    """The seat's agent type (its registry name): what a seat view shows instead of the label."""
    return _label(seats, player, "agent")


def _turn_controls(episode_id: int, last_turn: int, following: bool) -> int:
    key = f"turn-{episode_id}"
    if key not in st.session_state or following:
        start = _query_int("turn")
        st.session_state[key] = last_turn if start is None or following else min(max(start, 0), last_turn)
    st.session_state[key] = min(st.session_state[key], last_turn)
    cols = st.columns([1, 1, 1, 1, 8])
    steps = (
        ("first", ":material/first_page:", "first turn", lambda t: 0),
        ("prev", ":material/chevron_left:", "previous turn", lambda t: max(0, t - 1)),
        ("next", ":material/chevron_right:", "next turn", lambda t: min(last_turn, t + 1)),
        ("last", ":material/last_page:", "last turn", lambda t: last_turn),
    )
    for col, (name, icon, tip, move) in zip(cols, steps, strict=False):
        if col.button("", icon=icon, help=tip, key=f"{name}-{episode_id}"):
            st.session_state[key] = move(st.session_state[key])
    if last_turn > 0:
        cols[4].slider("turn", 0, last_turn, key=key)
    return int(st.session_state[key])


def _game_tab(
    data: ViewerData,
    episode: dict[str, Any],
    seats: pd.DataFrame,
    events: list[tuple[int, Event]],
    seat: str | None,
) -> None:
    live = bool(episode["live"])
    if live:
        st.caption("live: new events appear as they are written")
    if not events:
        st.info(
            f"Episode {episode['id']} has no events yet."
            if live
            else f"Episode {episode['id']} has no events."
        )
        return
    last_turn = max(e.turn for _, e in events)
    following = live and st.toggle("follow the game", value=True, key=f"follow-{episode['id']}")
    turn = _turn_controls(int(episode["id"]), last_turn, following)
    st.query_params["turn"] = str(turn)
    shown = [e for _, e in events if e.turn <= turn]
    world = world_of(data.reader, episode)
    view = EpisodeView(
        episode, seats, shown, turn, last_turn, seat, lambda e: describe(world, e), reader=data.reader
    )
    render = renderer_for(str(episode["world_id"]))
    if render is not None:
        render(view)
    else:  # a world without a renderer: the generic event table
        st.subheader("Events")
        st.dataframe(event_table(shown), hide_index=True, width="stretch")
    if episode.get("outcome") and view.finished:
        st.success(f"Outcome: {outcome_text(episode['outcome']) or 'over'}")
        with st.expander("outcome as stored"):
            st.json(episode["outcome"])
    render_transcript(transcript(world, shown), list(seats["player_id"]))


def _llm_calls(data: ViewerData, episode_id: int, seat: str | None) -> None:
    calls = data.llm_calls(episode_id)
    if calls.empty:
        st.info("No LLM calls in this episode.")
        return
    cols = st.columns(3)
    seats = sorted(calls["player_id"].dropna().unique())
    by_seat = cols[0].multiselect("seat", seats, default=[seat] if seat in seats else [])  # viewing as a seat
    by_purpose = cols[1].multiselect("purpose", sorted(calls["purpose"].unique()))
    only_invalid = cols[2].toggle("invalid only")
    shown = calls
    if by_seat:
        shown = shown[shown["player_id"].isin(by_seat)]
    if by_purpose:
        shown = shown[shown["purpose"].isin(by_purpose)]
    if only_invalid:
        shown = shown[~shown["valid"].astype(bool)]
    summary = shown[
        [
            "id",
            "turn",
            "player_id",
            "purpose",
            "model",
            "valid",
            "attempt",
            "error_class",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "latency_ms",
            "cache_hit",
        ]
    ]
    st.dataframe(summary, hide_index=True, width="stretch")
    tokens = int(shown["prompt_tokens"].fillna(0).sum() + shown["completion_tokens"].fillna(0).sum())
    cost = shown["cost_usd"].fillna(0).sum()
    retries = int((shown["attempt"] > 1).sum())
    st.caption(f"{len(shown)} calls · {tokens} tokens · ${cost:.4f} estimated · {retries} retries")
    page_size = 20
    pages_count = max(1, -(-len(shown) // page_size))
    page = st.number_input("page", 1, pages_count, 1) if pages_count > 1 else 1
    for row in shown.iloc[(page - 1) * page_size : page * page_size].itertuples():
        flag = "valid" if row.valid else "INVALID"
        with st.expander(
            f"{flag} #{row.id} turn {row.turn} · {row.player_id} · {row.purpose} · attempt {row.attempt}"
        ):
            for message in row.messages if isinstance(row.messages, list) else []:
                st.markdown(f"**{message.get('role', '?')}**")
                st.code(str(message.get("content", "")), language=None, wrap_lines=True)
            st.markdown("**answer**")
            st.code(row.response if isinstance(row.response, str) else "", language=None, wrap_lines=True)
            st.markdown("**parsed**")
            _parsed(row.parsed)
            if isinstance(row.error, str) and row.error:
                st.error(f"{row.error_class}: {row.error}")
            st.caption(
                f"model {row.model} · tokens {_shown(row.prompt_tokens)}+{_shown(row.completion_tokens)}"
                f" · cost {_shown(row.cost_usd)} · {_shown(row.latency_ms, '.0f')} ms"
                f" · cache hit {bool(row.cache_hit)}"
            )


def _parsed(value: Any) -> None:
    """The parsed answer: structured values as JSON, a plain-text answer (``J``, ``Option F``) as text."""
    if is_missing(value):
        st.caption("nothing parsed")
    elif isinstance(value, (dict, list)):
        st.json(value, expanded=False)
    else:
        st.code(str(value), language=None, wrap_lines=True)


def _shown(value: Any, spec: str = "") -> str:
    """A number as text, ``-`` when it is missing (never ``nan``)."""
    return "-" if is_missing(value) else format(value, spec)


# comparisons -----------------------------------------------------------------------------------
def compare_page(data: ViewerData) -> None:
    """Per-agent scores and win rates with 95% intervals, a pairwise heatmap, cost and tokens."""
    st.title("Compare agents")
    runs = data.runs()
    if runs.empty:
        st.info("This store has no runs yet.")
        return
    ids = list(runs["id"])
    wanted = _query_int("run")
    run_id = st.selectbox(
        "run",
        ids,
        index=ids.index(wanted) if wanted in ids else 0,
        format_func=lambda i: f"{i}: {_run_cell(runs, i, 'name')} ({_run_cell(runs, i, 'status')})",
    )
    st.query_params["run"] = str(run_id)
    excluded = data.excluded(int(run_id))
    st.caption(
        "Scores and win rates use complete episodes only; "
        + (f"{sum(excluded.values())} excluded ({counts_text(excluded)})." if excluded else "none excluded.")
    )
    if is_tournament(data.path, int(run_id)):
        tournament_section(data.path, int(run_id))
    results = data.seat_results(int(run_id))
    if results.empty:
        st.info("No complete episodes in this run yet.")
        return
    table = agent_table(results)
    st.subheader("Per agent")
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(DRAW_NOTE)
    _interval_chart(table, "agent", "score", "mean score")
    _interval_chart(table, "agent", "win_rate", "win rate", stem="win")
    dealt = data.game_roles(int(run_id))
    for by, key in (("side", "side"), ("game_role", "role")):
        table = role_table(results, dealt, by)
        if not table.empty:
            st.subheader(f"Win rate per {key}")
            st.dataframe(table, hide_index=True, width="stretch")
            _interval_chart(table, key, "win_rate", "win rate", stem="win")
    pairs = _pairwise(results)
    if not pairs.empty:
        st.subheader("Pairwise mean score (row agent against column agent)")
        st.altair_chart(heatmap(pairs, "score", "episodes"), width="stretch")
    usage = data.usage(int(run_id))
    if not usage.empty:
        st.subheader("LLM cost and tokens per agent")
        st.caption("Every call of the run, unfinished episodes included: their cost was spent.")
        st.dataframe(usage, hide_index=True, width="stretch")
        st.altair_chart(alt.Chart(usage).mark_bar().encode(x="tokens:Q", y="label:N"), width="stretch")


def _interval_chart(table: pd.DataFrame, key: str, column: str, title: str, stem: str | None = None) -> None:
    """Bars of ``column`` per ``key`` with their 95% intervals (``{stem}_low`` to ``{stem}_high``)."""
    stem = stem or column
    shown = table.dropna(subset=[column])
    if shown.empty:
        return
    base = alt.Chart(shown).encode(y=alt.Y(f"{key}:N", sort="-x", title=key))
    bars = base.mark_bar().encode(
        x=alt.X(
            f"{column}:Q",
            title=f"{title} (95% interval)",
            scale=alt.Scale(domain=[0, 1]) if stem == "win" else alt.Undefined,
        ),
        tooltip=[
            key,
            *(c for c in ("n", "wins", "draws") if c in shown),
            column,
            f"{stem}_low",
            f"{stem}_high",
        ],
    )
    rules = base.mark_rule(strokeWidth=2).encode(x=f"{stem}_low:Q", x2=f"{stem}_high:Q")
    st.altair_chart(bars + rules, width="stretch")


def _run_cell(runs: pd.DataFrame, run_id: int, column: str) -> str:
    return str(runs[runs.id == run_id][column].iloc[0])


def _pairwise(results: pd.DataFrame) -> pd.DataFrame:
    """Two-seat episodes: each agent's mean score against each opponent."""
    sizes = results.groupby("episode_id")["player_id"].transform("count")
    two = results[sizes == 2]
    if two.empty:
        return pd.DataFrame()
    rows = []
    for _, group in two.groupby("episode_id"):
        a, b = group.iloc[0], group.iloc[1]
        rows.append({"agent": a.label, "opponent": b.label, "score": a.score})
        rows.append({"agent": b.label, "opponent": a.label, "score": b.score})
    df = pd.DataFrame(rows)
    return df.groupby(["agent", "opponent"], as_index=False).agg(
        score=("score", "mean"), episodes=("score", "size")
    )
