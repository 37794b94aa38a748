"""Types shared by the entrypoint tests."""

from __future__ import annotations

from collections.abc import Callable

from entrypoints.container import Container

ContainerFactory = Callable[..., Container]
