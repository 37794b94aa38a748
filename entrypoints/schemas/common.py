"""Building blocks shared by every resource's models."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
)
from pydantic.json_schema import DEFAULT_REF_TEMPLATE, GenerateJsonSchema, JsonSchemaMode

from application.queries import MAX_PER_PAGE

# Request models register where their fields come from, so a validation error can say whether
# a rejected field was in the body, the query string, the path or a header.
_LOCATIONS: dict[str, str] = {}

# Past this page the offset outgrows what anyone pages through, and what a database handles well.
MAX_PAGE = 1_000_000


def location_of(model_title: str) -> str:
    return _LOCATIONS.get(model_title, "request")


def omitted() -> Any:
    """Default of a field that may be left out but not set to null (a PATCH field)."""
    return Field(None)


def _nullable(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(o.get("type") == "null" for o in prop.get("anyOf", []))


def no_null_defaults(schema: dict[str, Any]) -> None:
    # An ``omitted()`` field's default is "left out", not null: the document must not offer
    # null as a value the field accepts.
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None and not _nullable(prop):
            del prop["default"]


def _json_integer(value: object) -> object:
    """JSON has one number type: ``1.0`` is the integer 1, as JSON Schema's ``integer`` says.
    Fractions, booleans and strings stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer in a JSON body: strict (no "1", no true), but 1.0 is 1.
JsonInt = Annotated[StrictInt, BeforeValidator(_json_integer)]


class _Located(BaseModel):
    location: ClassVar[str] = "request"

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _LOCATIONS[cls.__name__] = cls.location


class BodyModel(_Located):
    """A JSON request body: unknown fields and loosely typed values are refused."""

    location = "body"
    model_config = ConfigDict(extra="forbid", json_schema_extra=no_null_defaults)


class _ReadOnlySchema(dict[str, Any]):
    """A JSON schema shared by every caller: reading is a plain dictionary's, changing refused."""

    def _refuse(self, *_args: Any, **_kwargs: Any) -> Any:
        raise TypeError("a query model's schema is shared: copy it before changing it")

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = __ior__ = _refuse


def _read_only(value: Any) -> Any:
    if isinstance(value, dict):
        return _ReadOnlySchema({key: _read_only(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_read_only(item) for item in value)
    return value


# JSON schemas of query models, made once per model and arguments (see QueryModel).
_QUERY_SCHEMAS: dict[tuple[Any, ...], dict[str, Any]] = {}


class QueryModel(_Located):
    """Query parameters: an unknown parameter is an error, not something to ignore."""

    location = "query"
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def model_json_schema(
        cls,
        by_alias: bool | None = None,
        ref_template: str = DEFAULT_REF_TEMPLATE,
        schema_generator: type[GenerateJsonSchema] = GenerateJsonSchema,
        mode: JsonSchemaMode = "validation",
        *,
        union_format: Literal["any_of", "primitive_type_array"] = "any_of",
    ) -> dict[str, Any]:
        """The model's JSON schema, generated once: flask-openapi3 asks for it on every request
        to read the query string by, and generating it cost more than the rest of validation.
        Every caller gets the same schema, read-only at every depth (arrays as tuples), so none
        can change what the next one reads; copying it for each caller cost more than reading it.
        """
        key = (cls, by_alias, ref_template, schema_generator, mode, union_format)
        schema = _QUERY_SCHEMAS.get(key)
        if schema is None:
            schema = _read_only(
                super().model_json_schema(
                    by_alias, ref_template, schema_generator, mode, union_format=union_format
                )
            )
            _QUERY_SCHEMAS[key] = schema
        return schema


class PathModel(_Located):
    location = "path"
    model_config = ConfigDict(extra="forbid")


class NoQuery(QueryModel):
    """An operation that takes no query parameters (so any given is refused)."""


# --- field types ----------------------------------------------------------------------------


def _strict_query_bool(value: object) -> object:
    # Only the two JSON spellings: "1", "yes" or "on" are not booleans in this API's schema.
    if isinstance(value, str):
        if value == "true":
            return True
        if value == "false":
            return False
        raise ValueError("must be true or false")
    return value


QueryBool = Annotated[bool, BeforeValidator(_strict_query_bool)]


# The start of an RFC 3339 date-time: lax parsing would also read "0.5" or "1700000000" (in a
# query string, where every value is text) as seconds since 1970.
_RFC3339_START = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _require_text(value: object) -> object:
    if not isinstance(value, str) or not _RFC3339_START.match(value):
        raise ValueError("must be a string in RFC 3339 date-time format")
    return value


UtcDateTime = Annotated[
    AwareDatetime,
    BeforeValidator(_require_text),
    AfterValidator(lambda value: value.astimezone(UTC)),
    Field(json_schema_extra={"example": "2031-01-01T00:00:00Z"}),
]

ResourceId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A resource id (UUIDv7).",
        json_schema_extra={"example": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6d"},
    ),
]

Timestamp = Annotated[datetime, Field(description="RFC 3339, UTC.")]


class PageQuery(QueryModel):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    per_page: int = Field(
        20, ge=1, le=MAX_PER_PAGE, description=f"Items per page, at most {MAX_PER_PAGE}."
    )


class CursorPageQuery(PageQuery):
    """A list that also pages by cursor (keyset): ``after`` instead of ``page``."""

    after: str | None = Field(
        None,
        min_length=1,
        max_length=1024,
        description="Start after this cursor: a `next_cursor` of this list, with the same "
        "filters (and `sort`, where the list has one). Deep pages cost the same as the first; "
        "not together with `page`.",
    )


class PageMeta(BaseModel):
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=MAX_PER_PAGE)
    total: int = Field(
        ge=0,
        description="Items matching the filters, on every page: the exact number when "
        "`total_exact` is true, otherwise a lower bound (at least this many match; more pages "
        "follow while `total` reaches past this one).",
    )
    total_exact: bool = Field(
        True,
        description="Whether `total` is exact. Lists are counted only ten pages past the page "
        "asked for, so that no page costs a count of the whole table.",
    )


class CursorPageMeta(PageMeta):
    next_cursor: str | None = Field(
        None,
        description="The cursor of the next page (pass it as `after`), null on the last page. "
        "A page reached by cursor counts its `total` from the cursor on (`total_exact` false).",
    )
