"""How commands print: aligned tables for people, JSON for scripts, money and times as text.

Tables go through rich. On a terminal they fit its width; anywhere else (a pipe, a file, a
test) lines are never wrapped or cut, and no colour codes are written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from application.queries import Page
from domain.text import escape_control_characters

F = TypeVar("F", bound=Callable[..., Any])

# Wide enough that no table row is ever wrapped when the output is not a terminal.
_UNBOUNDED_WIDTH = 100_000


class Refusal(click.ClickException):
    """A command's own refusal, printed like a domain error's: ``Error: CODE: message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def json_option(command: F) -> F:
    """``--json``: the command prints JSON instead of a table (for scripts)."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table."
    )(command)


def page_options(command: F) -> F:
    command = click.option(
        "--per-page",
        type=click.IntRange(1, 100),
        default=20,
        show_default=True,
        help="Rows per page.",
    )(command)
    return click.option(
        "--page", type=click.IntRange(min=1), default=1, show_default=True, help="Page number."
    )(command)


def console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    return Console(
        file=stream,
        width=None if terminal else _UNBOUNDED_WIDTH,
        no_color=not terminal,
        highlight=False,
        soft_wrap=not terminal,
    )


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")  # as the API writes UTC
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def print_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, empty: str = "Nothing to show."
) -> None:
    """Columns aligned, one header line, no borders (easy to read and to ``grep``)."""
    rows = list(rows)
    if not rows:
        click.echo(empty)
        return
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(text(cell) for cell in row))
    _print(table)


def print_fields(pairs: Sequence[tuple[str, object]]) -> None:
    """One record as aligned ``name  value`` lines."""
    table = Table(box=None, pad_edge=False, show_edge=False, show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in pairs:
        table.add_row(name, text(value))
    _print(table)


def _print(table: Table) -> None:
    # rich pads every cell to its column's width; lines ending in spaces are a nuisance in
    # files and diffs.
    out = console()
    with out.capture() as captured:
        out.print(table)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def print_page_footer(page: Page[Any], noun: str) -> None:
    if page.total > len(page.items):
        more = f"; --page {page.page + 1} for more" if page.has_next else ""
        if page.total_exact:
            click.echo(f"page {page.page} of {page.pages} ({page.total} {noun}){more}")
        else:  # a lower bound (see Page): say so
            click.echo(f"page {page.page} of {page.pages}+ ({page.total}+ {noun}){more}")


def page_json(page: Page[Any], item: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The same envelope the HTTP API uses for lists."""
    return {
        "items": [item(entry) for entry in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "total_exact": page.total_exact,
    }


def text(value: object) -> str:
    """A cell: empty for nothing, dates to the minute in UTC, lists joined with '; ', control
    characters escaped (a stored value must not drive the terminal it is shown on)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, tuple | list):
        return "; ".join(text(item) for item in value)
    return escape_control_characters(str(value))


def when(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M UTC")


def money(cents: int) -> str:
    """Integer cents as a decimal amount: 1250 -> '12.50'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
