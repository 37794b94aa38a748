"""Logging: structlog and the standard library's ``logging`` through one pipeline.

``configure_logging(settings)`` runs once per process (again only when the format or level
changes): one handler on the root logger renders every record, whether it comes from structlog
or from a library's stdlib logger (werkzeug, gunicorn, SQLAlchemy, alembic), as JSON lines in
production or readable lines in development. Fields bound with ``bind_request`` (request_id,
method and route, caller_id once the caller is authenticated, then status and duration_ms) are
merged into every line, including the stdlib ones, so all lines of one request carry its id.

Secrets never reach the output. By structure first: the SQL engines never render statement
parameters into their exceptions (``adapters.sqlalchemy.engine``), tracebacks carry no local
variables. Then by pattern, for what a message may still carry: ``redact`` masks the values of
sensitive keys (password, token, secret, hash, authorization, api_key, ... at any depth, any
case), a database error's DETAIL line (it quotes the failing row), and anything that looks like a
JWT, a ``circ_`` API key, a whole Argon2 hash, a bearer credential or a sensitive query
parameter, wherever it appears in a value or a message.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import threading
from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, cast

import structlog
import structlog.tracebacks
from structlog.typing import EventDict, Processor, WrappedLogger

from entrypoints.settings import LogFormat, Settings

REDACTED = "[REDACTED]"

# Key names whose values are always masked: exact names, and any key containing these words.
_SENSITIVE_WORDS = (
    "password",
    "passwd",
    "token",
    "secret",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
    "credential",
    "private_key",
    "signing_key",
    "hash",  # password_hash, key_hash, secret_hash: digests of secrets are secrets too
    "digest",
)
_SENSITIVE_KEY = re.compile("|".join(_SENSITIVE_WORDS), re.IGNORECASE)
# Keys that look sensitive by name but carry nothing secret (counters, names of token types).
_HARMLESS_KEYS = frozenset({"token_type", "token_issuer", "token_audience"})

_PATTERNS = (
    # JSON Web Tokens: three base64url parts, the first a JSON header ('{"' -> 'eyJ').
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # API keys: circ_<prefix>_<secret>.
    re.compile(r"\bcirc_[A-Za-z0-9]+_[A-Za-z0-9_-]+"),
    # Password hashes, whole: $argon2id$v=19$m=65536,t=3,p=4$<salt>$<digest> (commas included).
    re.compile(r"\$argon2(?:id|i|d)\$[A-Za-z0-9+/=,$.-]+"),
)
# Credentials after an auth scheme, and sensitive key=value / "key": "value" pairs in text.
_SCHEME = re.compile(r"\b(Bearer|Basic|ApiKey)\s+[^\s\"',]+", re.IGNORECASE)
_PAIR = re.compile(
    r"(?P<key>[A-Za-z0-9_]*(?:" + "|".join(_SENSITIVE_WORDS) + r")[A-Za-z0-9_]*)"
    r"(?P<sep>[\"']?\s*[=:]\s*[\"']?)(?P<value>[^&\s\"',}]+)",
    re.IGNORECASE,
)

# What a database error carries about the rows involved: PostgreSQL's DETAIL line ("Failing row
# contains (...)", "Key (email)=(...)") and a driver's rendered parameters. Dropped whole.
_DATABASE_DETAIL = re.compile(r"(DETAIL:)[^\n]*|(\[parameters:)[^\n]*")

_RESERVED = frozenset({"event", "level", "logger", "timestamp"})

# The cheap test before the patterns: text that holds none of these literals cannot match any
# of them, so most lines (paths, ids, routes, levels) skip every pattern.
# - Literals of the case-sensitive patterns, as they must appear.
_EXACT_MARKERS = re.compile(r"DETAIL:|\[parameters:|eyJ|circ_|\$argon2")
# - Words of the case-insensitive ones (_SCHEME, _PAIR), lower-cased. Only on
#   ASCII text is "the lower-cased text holds the word" the same as "the pattern can match":
#   re.IGNORECASE also folds a few non-ASCII letters onto ASCII ones (U+017F long s to "s",
#   U+212A Kelvin sign to "k", U+0131 dotless i to "i"), so other text takes the patterns.
#   One search for all of them: a regular expression of literals beats a loop over ``in``.
_FOLDED_MARKERS = re.compile("|".join((*_SENSITIVE_WORDS, "bearer", "basic")))


def _may_hold_secret(text: str) -> bool:
    """False only when no redaction pattern can match ``text`` (True may still find nothing)."""
    if not text.isascii():
        return True
    return (
        _EXACT_MARKERS.search(text) is not None or _FOLDED_MARKERS.search(text.lower()) is not None
    )


def is_sensitive_key(key: object) -> bool:
    return isinstance(key, str) and _is_sensitive_name(key)


# Field names repeat on every line (request_id, route, status, ...): each is tested once.
@functools.lru_cache(maxsize=1024)
def _is_sensitive_name(key: str) -> bool:
    return key.lower() not in _HARMLESS_KEYS and _SENSITIVE_KEY.search(key) is not None


# Values that hold no text, so nothing to mask: most fields of a request's line.
_PLAIN = frozenset({int, float, bool, type(None)})


def redact_text(text: str) -> str:
    """``text`` with every secret-looking part replaced by ``[REDACTED]``."""
    if not _may_hold_secret(text):
        return text
    text = _DATABASE_DETAIL.sub(lambda m: f"{m.group(1) or m.group(2)} {REDACTED}", text)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = _SCHEME.sub(lambda match: f"{match.group(1)} {REDACTED}", text)
    return _PAIR.sub(
        lambda m: (
            m.group(0)
            if m.group("key").lower() in _HARMLESS_KEYS or m.group("value") == REDACTED
            else f"{m.group('key')}{m.group('sep')}{REDACTED}"
        ),
        text,
    )


def redact_value(value: Any, depth: int = 0) -> Any:
    """``value`` with secrets masked, looking inside mappings, sequences and strings."""
    if depth > 8 or type(value) in _PLAIN:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_sensitive_key(key) else redact_value(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(redact_value(item, depth + 1) for item in value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    if isinstance(value, BaseException):
        return redact_text(repr(value))
    return value


def _flat_and_clean(event_dict: EventDict) -> bool:
    """True when every value is a number or text and no text can hold a secret: then only the
    keys are left to test. One test of all the text together (a marker in any value is in the
    joined text too) instead of one per value, for the common line of a request."""
    texts = []
    for value in event_dict.values():
        kind = type(value)
        if kind is str:
            texts.append(value)
        elif kind not in _PLAIN:
            return False
    return not _may_hold_secret("\n".join(texts))


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """A structlog processor: masks secrets in every field of the event."""
    values_clean = _flat_and_clean(event_dict)
    for key in list(event_dict):
        if key not in _RESERVED and is_sensitive_key(key):
            event_dict[key] = REDACTED
        elif not values_clean:
            event_dict[key] = redact_value(event_dict[key])
    return event_dict


def _json_default(value: Any) -> Any:
    """A value JSON has no type for, written as structlog's ``JSONRenderer`` writes it."""
    try:
        return value.__structlog__()
    except AttributeError:
        return repr(value)


# One encoder for every line (``json.dumps`` with any option builds a new one each time); it
# holds no state between calls, so threads share it.
_JSON = json.JSONEncoder(default=_json_default)


def render_json(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> str:
    """A structlog renderer: the line as ``JSONRenderer(sort_keys=False)`` writes it."""
    return _JSON.encode(event_dict)


def _drop_formatter_leftovers(
    _logger: WrappedLogger, _method: str, event_dict: EventDict
) -> EventDict:
    """Attributes another formatter left on a stdlib record, which would repeat the event."""
    for key in ("color_message", "message", "asctime"):
        event_dict.pop(key, None)
    return event_dict


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (tests and click runners replace it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


# The request's fields, in one context variable: binding makes a new mapping (a copied context
# never sees a later binding), clearing sets the empty one. structlog's own context variables
# (one per key) made each clearing and each line walk every variable of the context.
_NO_FIELDS: Mapping[str, Any] = MappingProxyType({})
_REQUEST_FIELDS: ContextVar[Mapping[str, Any]] = ContextVar(
    "circulate_request_fields", default=_NO_FIELDS
)


def merge_request_fields(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """A structlog processor: the request's fields after the line's own, which win a clash
    (as ``structlog.contextvars.merge_contextvars`` merges)."""
    for key, value in _REQUEST_FIELDS.get().items():
        event_dict.setdefault(key, value)
    return event_dict


def shared_processors() -> list[Processor]:
    """What every line goes through, before rendering (for structlog and stdlib records)."""
    return [
        merge_request_fields,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        _drop_formatter_leftovers,
    ]


def renderer_processors(log_format: LogFormat) -> list[Processor]:
    """Redaction, then JSON or readable text."""
    if log_format == "json":
        return [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks as data, without local variables: a local may hold a password.
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False, use_rich=False)
            ),
            redact,
            render_json,
        ]
    return [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info,
        redact,
        structlog.dev.ConsoleRenderer(colors=False, sort_keys=False),
    ]


def formatter(log_format: LogFormat) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors(),
        processors=renderer_processors(log_format),
    )


HANDLER_NAME = "circulate"
# Libraries whose loggers must not keep handlers of their own: they propagate to ours.
LIBRARY_LOGGERS = (
    "werkzeug",
    "gunicorn",
    "gunicorn.error",
    "gunicorn.access",
    "sqlalchemy",
    "sqlalchemy.engine",
    "alembic",
    "flask.app",
)

_lock = threading.Lock()
_configured: tuple[LogFormat, str] | None = None


# Keys some processor of the pipeline acts on when a line has them (a stack, an exception, what
# another formatter left, structlog's own markers): a line with any takes the whole pipeline.
_PIPELINE_KEYS = frozenset(
    {"stack_info", "exc_info", "color_message", "message", "asctime", "_record", "_from_structlog"}
)


def _timestamp() -> str:
    """The time as ``TimeStamper(fmt="iso", utc=True)`` writes it."""
    return datetime.now(tz=UTC).isoformat().replace("+00:00", "Z")


class _DirectLines:
    """The configured pipeline run straight into the handler's stream, for ``log_line``."""

    def __init__(
        self,
        handler: logging.Handler,
        shared: list[Processor],
        rendering: list[Processor],
        *,
        json_lines: bool,
    ) -> None:
        self.handler = handler
        self.shared = shared
        self.rendering = rendering
        self.json_lines = json_lines

    def serves(self, logger: logging.Logger) -> bool:
        """Whether our handler alone, unfiltered, would write ``logger``'s lines."""
        if logger.filters or self.handler.filters:
            return False
        current: logging.Logger | None = logger
        while current is not None and current.parent is not None:  # up to the root
            if current.handlers or not current.propagate:
                return False
            current = current.parent
        return current is not None and current.handlers == [self.handler]

    def write(self, logger: logging.Logger, method: str, event_dict: EventDict) -> None:
        line = self._json_line(logger, method, event_dict) if self.json_lines else None
        if line is None:
            line = self._line(logger, method, event_dict)
        handler = cast(logging.StreamHandler, self.handler)  # type: ignore[type-arg]
        handler.acquire()
        try:
            handler.stream.write(f"{line}{handler.terminator}")
            handler.flush()
        finally:
            handler.release()

    def _line(self, logger: logging.Logger, method: str, event_dict: EventDict) -> Any:
        line: Any = event_dict
        for processor in self.shared:
            line = processor(logger, method, line)
        # What the formatter adds to a line from structlog (and its first renderer removes).
        line.update(_record=None, _from_structlog=True)
        for processor in self.rendering:
            line = processor(logger, method, line)
        return line

    @staticmethod
    def _json_line(logger: logging.Logger, method: str, event_dict: EventDict) -> str | None:
        """The JSON pipeline's line (``shared_processors`` then ``renderer_processors("json")``)
        written in one step, for a line none of its other processors would change (no stack,
        no exception, no formatter's leftovers): ``None`` for any other."""
        line = merge_request_fields(logger, method, event_dict)
        if not _PIPELINE_KEYS.isdisjoint(line):
            return None
        line["logger"] = logger.name
        line["level"] = method  # "info" or "error": the names add_log_level keeps as they are
        line["timestamp"] = _timestamp()
        return render_json(logger, method, redact(logger, method, line))


_direct: _DirectLines | None = None


def log_line(name: str, level: Literal["info", "error"], event: str, /, **fields: Any) -> None:
    """Log one line as ``get_logger(name)`` would, at a fraction of the cost: the same fields
    (the request's, the level, the logger, the time), the same redaction and rendering, but
    no ``LogRecord`` built and copied on the way, and nothing done when the level is off. For
    the line every request writes. Whenever another handler or a filter is in the way (a
    test's log capture), the line takes the ordinary path."""
    logger = logging.getLogger(name)
    if not logger.isEnabledFor(logging.ERROR if level == "error" else logging.INFO):
        return
    direct = _direct
    if direct is None or not direct.serves(logger):
        getattr(get_logger(name), level)(event, **fields)
        return
    try:
        direct.write(logger, level, {**fields, "event": event})
    except Exception:
        # Whatever failed, the ordinary path reports it as logging reports its own errors.
        getattr(get_logger(name), level)(event, **fields)


def configure_logging(settings: Settings, *, level: str | None = None) -> None:
    """Send every log record of this process through the structlog pipeline (idempotent)."""
    global _configured  # one configuration per process
    log_format = settings.effective_log_format()
    wanted = (log_format, level or settings.log_level)
    with _lock:
        if _configured == wanted:
            return
        structlog.configure(
            processors=[
                structlog.stdlib.filter_by_level,
                *shared_processors(),
                structlog.stdlib.PositionalArgumentsFormatter(),
                structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            # A logger binds this chain at its first use, then keeps it: no configuration lookup
            # per line. Safe because the chain is the same on every call here (the format is
            # the handler's, the level is checked on the stdlib logger at each line), and
            # structlog's defaults never cache, so a logger used before this keeps looking.
            cache_logger_on_first_use=True,
        )
        handler = _StderrHandler()
        handler.set_name(HANDLER_NAME)
        handler.setFormatter(formatter(log_format))
        root = logging.getLogger()
        for existing in list(root.handlers):
            if existing.get_name() == HANDLER_NAME or not _is_capture_handler(existing):
                root.removeHandler(existing)
        root.addHandler(handler)
        root.setLevel(wanted[1])
        for name in LIBRARY_LOGGERS:
            library = logging.getLogger(name)
            library.handlers.clear()
            library.propagate = True
        # SQLAlchemy logs every statement at INFO, alembic every plugin it loads (on each
        # readiness probe): only their warnings unless asked for DEBUG.
        for chatty in ("sqlalchemy.engine", "alembic"):
            logging.getLogger(chatty).setLevel(
                logging.INFO if wanted[1] == "DEBUG" else logging.WARNING
            )
        _configured = wanted
        global _direct  # the same pipeline, for log_line's lines
        _direct = _DirectLines(
            handler,
            shared_processors(),
            renderer_processors(log_format),
            json_lines=log_format == "json",
        )


def _is_capture_handler(handler: logging.Handler) -> bool:
    """pytest's log capture handlers stay, so tests can read what was logged."""
    return type(handler).__module__.startswith("_pytest")


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def bind_request(**fields: Any) -> None:
    """Add fields to every line logged from now on in this request (thread / context)."""
    _REQUEST_FIELDS.set({**_REQUEST_FIELDS.get(), **fields})


def clear_request() -> None:
    _REQUEST_FIELDS.set(_NO_FIELDS)


def request_fields() -> MutableMapping[str, Any]:
    return dict(_REQUEST_FIELDS.get())
