"""JSON values read from PostgreSQL in one step.

psycopg hands every ``json`` and ``jsonb`` value to ``json.loads`` as bytes, which works out
their encoding, decodes them, looks for whitespace on either side and only then parses: five
times what parsing the text costs, and twice a row on a page of books (authors and subjects),
about 2 µs a book. The server sends ``jsonb`` in one canonical form, a single value with no space
around it, so the text is decoded (UTF-8, as ``json.loads`` takes bytes) and parsed as it comes.
Text that is not one value alone (a ``json`` column keeps the spaces it was written with) goes to
``json.loads`` as before, which also raises what it raised for text that is no JSON.

Imported by ``engine`` for PostgreSQL engines only: a SQLite process never loads psycopg.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import Connection
from psycopg.abc import Buffer
from psycopg.adapt import Loader

_DECODER = json.JSONDecoder()


class JsonTextLoader(Loader):
    """``json`` and ``jsonb`` in the text format, the one psycopg asks for."""

    def load(self, data: Buffer) -> Any:
        text = str(data, "utf-8")
        try:
            value, end = _DECODER.raw_decode(text)
        except ValueError:
            return json.loads(text)
        return value if end == len(text) else json.loads(text)


def read_json_in_one_step(connection: Connection[Any], _record: object) -> None:
    """The engine's ``connect`` event: every new connection reads JSON with ``JsonTextLoader``."""
    for name in ("json", "jsonb"):
        connection.adapters.register_loader(name, JsonTextLoader)
