"""A page model's JSON written straight from the domain objects it lists.

A list page is usually rendered by validating each item into its response model
(``BookOut.model_validate(book, from_attributes=True)``) and then serialising the page: for
twenty catalogue records most of the page's time went into building and checking twenty models
that only exist to be written out. ``DirectPage`` writes the same bytes from the domain
objects themselves, with one pydantic serializer:

- the fields, their order and their names are the response model's (the API's contract stays
  written once, in the model);
- each value is read from the domain object's attribute of that name and written as pydantic
  writes the domain's own type (a tuple of authors as a JSON array, a UTC datetime as ISO 8601);
- an item that is not the domain class it was built for is an error (pydantic's serializer
  warnings are raised), never a guess.

It suits a response model whose every field is a domain attribute of the same name and meaning;
``tests/entrypoints/test_direct_pages.py`` checks, for each one used, that the bytes equal the
model's own rendering.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter
from pydantic_core import CoreSchema, SchemaSerializer, core_schema

T = TypeVar("T")

ITEMS = "items"


def _item_schema(model: type[BaseModel], source: type[Any]) -> CoreSchema:
    """``source`` (a dataclass) written as ``model``: ``model``'s fields, in its order, each
    read from ``source``'s attribute of that name."""
    if not dataclasses.is_dataclass(source):
        raise TypeError(f"{source.__name__} is not a dataclass")
    schema: dict[str, Any] = dict(TypeAdapter(source).core_schema)
    if schema["type"] != "dataclass":
        raise TypeError(f"{source.__name__}: no plain dataclass schema to write from")
    available = {field["name"]: field for field in schema["schema"]["fields"]}
    names = list(model.model_fields)
    missing = [name for name in names if name not in available]
    if missing:
        raise TypeError(f"{model.__name__} needs {missing}, which {source.__name__} lacks")
    arguments = core_schema.dataclass_args_schema(
        source.__name__, [available[name] for name in names]
    )
    return core_schema.dataclass_schema(source, arguments, names)


class DirectPage(Generic[T]):
    """Writes ``page_model`` (a page: ``items`` plus its paging fields) from a list of
    ``source`` objects, as ``item_model`` renders each of them."""

    def __init__(
        self, page_model: type[BaseModel], item_model: type[BaseModel], source: type[T]
    ) -> None:
        self.page_model = page_model
        annotations: dict[str, Any] = {
            name: info.annotation for name, info in page_model.model_fields.items()
        }
        if annotations.get(ITEMS) != list[item_model]:  # type: ignore[valid-type]
            raise TypeError(f"{page_model.__name__}.{ITEMS} is not a list of {item_model.__name__}")
        fields: dict[str, core_schema.TypedDictField] = {}
        for name, annotation in annotations.items():
            schema: CoreSchema
            if name == ITEMS:
                schema = core_schema.list_schema(_item_schema(item_model, source))
            else:
                schema = TypeAdapter(annotation).core_schema
            fields[name] = core_schema.typed_dict_field(schema)
        self._names = tuple(fields)
        self._serializer = SchemaSerializer(core_schema.typed_dict_schema(fields))

    def to_json(self, page: dict[str, Any]) -> bytes:
        """``page``: every field of the page model, ``items`` the ``source`` objects."""
        # A typed dict is written in its keys' order: the model's order is the contract's.
        ordered = {name: page[name] for name in self._names}
        return self._serializer.to_json(ordered, warnings="error")
