"""The ``circulate`` management command."""

from entrypoints.cli.main import main

__all__ = ["main"]
