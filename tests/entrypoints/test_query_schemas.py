"""Query models' JSON schemas: made once and shared, so no caller may change them."""

from __future__ import annotations

from typing import Any

import pytest

from entrypoints.schemas.books import BookQuery


def test_every_caller_reads_the_same_schema() -> None:
    schema = BookQuery.model_json_schema()

    assert BookQuery.model_json_schema() is schema
    assert schema["properties"]["per_page"]["maximum"] == 100
    assert "boolean" in {kind["type"] for kind in schema["properties"]["available"]["anyOf"]}


@pytest.mark.parametrize(
    "change",
    [
        lambda schema: schema.__setitem__("title", "x"),
        lambda schema: schema["properties"].pop("q"),
        lambda schema: schema["properties"]["per_page"].update(maximum=10**6),
        lambda schema: schema["properties"]["q"].setdefault("type", "integer"),
        lambda schema: schema["properties"].__delitem__("sort"),
        lambda schema: schema["properties"]["q"]["anyOf"].append({}),
    ],
)
def test_no_caller_can_change_the_shared_schema(change: Any) -> None:
    schema = BookQuery.model_json_schema()

    with pytest.raises((TypeError, AttributeError)):
        change(schema)
    assert BookQuery.model_json_schema()["properties"]["per_page"]["maximum"] == 100
