"""The live progress line of ``sim run``: label, bar, count, elapsed time, rate, ETA and LLM activity.

The line always fits the console's width: the label is abbreviated (:func:`matchup_label`) and cut
with "…", the bar shrinks, and on narrow terminals whole pieces are left out, least useful first;
a number is never cut. LLM counts come from :mod:`sim.llm.activity`, which the progress display
watches while it runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.progress import Progress, ProgressBar, TaskID
from rich.table import Table
from rich.text import Text

from sim.llm.activity import Activity, watching

if TYPE_CHECKING:
    from sim.jobs import EpisodeJob, SeatConfig
    from sim.records import EpisodeRecord

LOADING = "loading LLM client…"
_BAR = (10, 40)  # the bar's narrowest and widest
_LABEL_MIN = 12  # a label is not cut below this (it is left out instead)
_MATCHUP_MAX = 32  # a longer matchup is summarised as "N seats: K agent types"
# What a narrow line leaves out first: the highest of these (the count is always shown).
COUNT, ETA, FAILED, RUNNING, RATE, CALLS, COST, LABEL, BAR, TOKENS, CACHED, ELAPSED = range(12)


def matchup_label(seats: Sequence[SeatConfig]) -> str:
    """A short name for an episode's lineup: "a vs b" for two seats; for more, counts of each agent
    ("llm + 4×avalon_naive"), or "5 seats: 3 agent types" when that is still long."""
    names = [seat.label for seat in seats]
    if len(names) <= 2:
        return " vs ".join(names)
    counts = Counter(names)
    text = " + ".join(name if n == 1 else f"{n}×{name}" for name, n in counts.items())
    if cell_len(text) <= _MATCHUP_MAX:
        return text
    kinds = len(counts)
    return f"{len(names)} seats: {kinds} agent type{'s' if kinds != 1 else ''}"


def clock(seconds: float | None) -> str:
    """``H:MM:SS`` (``-:--:--`` when unknown)."""
    if seconds is None:
        return "-:--:--"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def tokens_text(tokens: int) -> str:
    """``950``, ``45.1k``, ``3.20M``."""
    if tokens < 1000:
        return str(tokens)
    if tokens < 1_000_000:
        return f"{tokens / 1000:.1f}k"
    return f"{tokens / 1_000_000:.2f}M"


def cost_text(live: Activity) -> str:
    """The estimated cost so far: ``$0.0123``, ``$0.0123+?`` when some answers are unpriced, ``$?``
    when none is priced (a local model)."""
    if live.unpriced:
        return f"${live.cost_usd:.4f}+?" if live.cost_usd else "$?"
    return f"${live.cost_usd:.4f}"


def rate_text(per_second: float) -> str:
    """Episodes per second, or seconds per episode when slower than one a second."""
    if per_second >= 1:
        return f"{per_second:.1f} ep/s"
    seconds = 1 / per_second
    return f"{seconds:.1f} s/ep" if seconds < 10 else f"{seconds:.0f} s/ep"


@dataclass(frozen=True)
class ProgressLine:
    """One frame of the progress line; renders to exactly one line of the console's width or less."""

    label: str
    completed: int
    total: int
    elapsed: float | None = None
    #: Episodes already complete when the display started (a resumed run): not counted in the rate.
    initial: int = 0
    activity: Activity | None = None
    #: Episodes in flight and failed so far (a tournament's display); None: not shown.
    running: int | None = None
    failed: int = 0

    def pieces(self) -> list[tuple[int, str]]:
        """The numbers, in display order, each with its priority (:data:`COUNT` ...)."""
        done_here = self.completed - self.initial
        rate = done_here / self.elapsed if self.elapsed and done_here > 0 else None
        eta = (self.total - self.completed) / rate if rate else None
        parts = [(COUNT, f"{self.completed}/{self.total}")]
        if self.running is not None:
            parts += [(RUNNING, f"{self.running} running"), (FAILED, f"{self.failed} failed")]
        parts.append((ELAPSED, clock(self.elapsed)))
        if rate is not None:
            parts.append((RATE, rate_text(rate)))
        parts.append((ETA, f"eta {clock(0 if self.completed >= self.total else eta)}"))
        live = self.activity
        if live is not None and live.loading:
            parts.append((CALLS, f"· {LOADING}"))
        elif live is not None and live.calls:
            parts.append((CALLS, f"· {live.calls} LLM call{'s' if live.calls != 1 else ''}"))
            if live.cached:
                parts.append((CACHED, f"{live.cached} cached"))
            parts.append((TOKENS, f"{tokens_text(live.tokens)} tok"))
            parts.append((COST, cost_text(live)))
        return parts

    def layout(self, width: int) -> tuple[str, int, str]:
        """(label, bar width, numbers) that fit in ``width`` cells (an empty label or a 0 bar: left out)."""
        parts = self.pieces()
        label_min = min(cell_len(self.label), _LABEL_MIN)
        # The label and the bar take part in the dropping order too, at their narrowest.
        optional = sorted({p for p, _ in parts if p != COUNT} | {LABEL, BAR}, reverse=True)
        dropped: set[int] = set()
        while True:
            numbers = " ".join(text for p, text in parts if p not in dropped)
            bar = 0 if BAR in dropped else _BAR[0]
            label = 0 if LABEL in dropped or not label_min else label_min
            needed = cell_len(numbers) + (bar + 1 if bar else 0) + (label + 1 if label else 0)
            if needed <= width or len(dropped) == len(optional):
                break
            dropped.add(optional[len(dropped)])
        room = width - cell_len(numbers) - (bar + 1 if bar else 0) - (1 if label else 0)
        label_text = ""
        if label:
            cut = Text(self.label)
            cut.truncate(max(room, 0), overflow="ellipsis")
            label_text = cut.plain
            room -= cell_len(label_text)
        if bar:
            bar = min(_BAR[1], bar + max(room, 0))
        return label_text, bar, numbers

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        label, bar, numbers = self.layout(options.max_width)
        row: list[RenderableType] = []
        grid = Table.grid(padding=(0, 1))
        if label:
            grid.add_column(no_wrap=True)
            row.append(Text(label))
        if bar:
            grid.add_column(width=bar, no_wrap=True)
            row.append(ProgressBar(total=max(self.total, 1), completed=self.completed, width=bar))
        grid.add_column(no_wrap=True)
        row.append(Text(numbers))
        grid.add_row(*row)
        yield grid


class RunProgress(Progress):
    """rich's Progress showing one :class:`ProgressLine` per task, watching the run's LLM activity.

    ``stop()`` may be called more than once (before printing an error, say): the live display is
    cleared the first time only.
    """

    def __init__(self, console: Console, *, disable: bool = False) -> None:
        super().__init__(console=console, disable=disable, transient=True)
        self.activity = Activity()
        self._initial: dict[TaskID, int] = {}
        self._labels: dict[TaskID, str] = {}
        self._watch = contextlib.ExitStack()
        self._stopped = False

    def add_run(self, name: str, total: int, completed: int = 0) -> TaskID:
        """The run's task: ``completed`` episodes were done before (a resumed run)."""
        task = self.add_task(name, total=total, completed=completed)
        self._initial[task] = completed
        self._labels[task] = name
        return task

    def episode_done(self, task: TaskID, job: EpisodeJob) -> None:
        """One more episode complete; the label names its lineup."""
        self.update(task, advance=1, description=f"{self._labels[task]}: {matchup_label(job.seats)}")

    @contextlib.contextmanager
    def cleared_on_error(self) -> Iterator[None]:
        """Stop (and clear) the live display if the body raises, so that the error is printed on a
        clean line rather than over the progress line."""
        try:
            yield
        except BaseException:
            self.stop()
            raise

    def get_renderables(self) -> Any:
        for task in self.tasks:
            if task.visible:
                yield ProgressLine(
                    label=task.description,
                    completed=int(task.completed),
                    total=int(task.total or 0),
                    elapsed=task.elapsed,
                    initial=self._initial.get(task.id, 0),
                    activity=self.activity,
                )

    def start(self) -> None:
        self._watch.enter_context(watching(self.activity))
        super().start()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        super().stop()
        self._watch.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class ActivityLine:
    """The LLM line of a tournament's display: calls (cached), tokens and estimated cost, cut to fit."""

    activity: Activity

    def text(self) -> str:
        live = self.activity
        if live.loading:
            return f"LLM: {LOADING}"
        cached = f" ({live.cached} cached)" if live.cached else ""
        calls = f"{live.calls} call{'s' if live.calls != 1 else ''}{cached}"
        return f"LLM: {calls} · {tokens_text(live.tokens)} tokens · {cost_text(live)} estimated"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        line = Text(self.text(), no_wrap=True)
        line.truncate(options.max_width, overflow="ellipsis")
        yield line


class TournamentProgress(RunProgress):
    """A tournament's live display, two lines within the console's width: matches done/total, running,
    failed, rate and ETA; then LLM calls, tokens and estimated cost. Its :attr:`watcher` is the run's
    :class:`sim.executor.EpisodeHandler` watcher, told when each match starts and ends."""

    def __init__(self, console: Console, *, disable: bool = False) -> None:
        self.watcher = MatchWatcher(self)  # before rich's constructor: it renders once
        super().__init__(console, disable=disable)

    def get_renderables(self) -> Any:
        counts = self.watcher
        for line in super().get_renderables():
            yield dataclasses.replace(line, activity=None, running=counts.running, failed=counts.failed)
        if self.tasks:  # (rich renders once in its constructor, before there is any)
            yield ActivityLine(self.activity)


class MatchWatcher:
    """Counts matches in flight and failed, and advances the display's (first) task per complete one."""

    def __init__(self, progress: RunProgress) -> None:
        self.progress = progress
        self.running = 0
        self.failed = 0

    def started(self, job: EpisodeJob) -> None:
        self.running += 1

    def finished(self, record: EpisodeRecord) -> None:
        self.running = max(self.running - 1, 0)
        if record.status == "failed":
            self.failed += 1
        elif record.status == "complete" and self.progress.tasks:
            self.progress.episode_done(self.progress.tasks[0].id, record.job)
