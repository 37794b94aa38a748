"""What every serving process does first: logging, then a refusal of unsafe production settings."""

from __future__ import annotations

from entrypoints.logs import configure_logging
from entrypoints.settings import Settings


class UnsafeProductionSettings(RuntimeError):
    """Production settings that must not serve: a missing or placeholder secret, a default."""


def check_production(settings: Settings) -> None:
    """Raise, with one line naming every problem, when production settings are not safe."""
    if settings.environment != "production":
        return
    problems = settings.production_problems()
    if problems:
        raise UnsafeProductionSettings("refusing to start in production: " + "; ".join(problems))


def prepare(settings: Settings) -> None:
    configure_logging(settings)
    check_production(settings)
