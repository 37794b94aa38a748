"""Progress of a long job on standard error: a live bar on a terminal, plain lines elsewhere.

A log file or a CI job gets a line every few seconds (and one at the end) instead of a bar
redrawn with control characters.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

PLAIN_EVERY_SECONDS = 5.0

Advance = Callable[[int], None]


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} rows/s", style="progress.data.speed")


@contextmanager
def progress(label: str, total: int | None) -> Iterator[Advance]:
    """Yields ``advance(rows)``; reports ``label`` with rows done and rows per second."""
    if sys.stderr.isatty():
        with _bar(label, total) as advance:
            yield advance
        return
    with _lines(label, total) as advance:
        yield advance


@contextmanager
def _bar(label: str, total: int | None) -> Iterator[Advance]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)

        def advance(rows: int) -> None:
            bar.advance(task, rows)

        yield advance


@contextmanager
def _lines(label: str, total: int | None) -> Iterator[Advance]:
    started = last = time.monotonic()
    done = 0

    def line(now: float) -> str:
        elapsed = max(now - started, 1e-9)
        of_total = f" of {total:,}" if total is not None else ""
        return f"{label}: {done:,}{of_total} rows, {elapsed:.1f} s, {done / elapsed:,.0f} rows/s"

    def advance(rows: int) -> None:
        nonlocal done, last
        done += rows
        now = time.monotonic()
        if now - last >= PLAIN_EVERY_SECONDS:
            last = now
            click.echo(line(now), err=True)

    yield advance
    click.echo(line(time.monotonic()), err=True)
