"""The composition root names its adapters and imports each when a provider first builds one."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from entrypoints import container as root
from entrypoints.containers import identity, library
from entrypoints.containers.deferred import Deferred
from tests.entrypoints.support import ContainerFactory

REPOSITORY = Path(__file__).resolve().parents[2]
ANNOTATION = re.compile(r"Deferred\[(?P<type>.+)\]")


def deferred_adapters(module: ModuleType) -> list[tuple[str, Deferred[object], str]]:
    """(name, the Deferred, the type its annotation gives) for each one the module defines."""
    found = []
    for name, annotation in module.__annotations__.items():
        match = ANNOTATION.fullmatch(str(annotation))
        if match is not None:
            found.append((name, getattr(module, name), match["type"]))
    return found


FOUND = [
    (module, name, deferred, type_name)
    for module in (root, identity, library)
    for name, deferred, type_name in deferred_adapters(module)
]
ALL = [pytest.param(*found, id=f"{found[0].__name__}.{found[1]}") for found in FOUND]


def test_the_container_defers_its_adapters() -> None:
    # Every adapter the container uses is named, in each of the modules that build providers.
    assert len(FOUND) > 30
    assert {module for module, *_ in FOUND} == {root, identity, library}


@pytest.mark.parametrize(("module", "name", "deferred", "type_name"), ALL)
def test_each_deferred_adapter_is_what_its_annotation_says(
    module: ModuleType, name: str, deferred: Deferred[object], type_name: str
) -> None:
    loaded = deferred.load()

    if inspect.isclass(loaded):
        assert type_name == loaded.__name__
    else:  # a function that makes one: what it says it returns
        assert type_name == loaded.__annotations__["return"]


def test_importing_the_container_imports_no_adapter_it_defers(tmp_path: Path) -> None:
    code = "import sys, entrypoints.container; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules = set(done.stdout.split())

    assert "entrypoints.container" in modules
    targets = {deferred.target.partition(":")[0] for _, _, deferred, _ in FOUND}
    assert not targets & modules
    heavy = ("sqlalchemy", "redis", "cachelib", "jinja2", "alembic", "flask", "jwt")
    assert not {name for name in modules if name.partition(".")[0] in heavy}


def test_a_deferred_loads_its_target_once_and_calls_it() -> None:
    made: Deferred[Path] = Deferred("pathlib:PurePosixPath")

    assert str(made("a", "b")) == "a/b"
    assert made.load() is made.load()


@pytest.mark.parametrize("target", ["pathlib", "pathlib:", ":Path", "pathlib.Path"])
def test_a_deferred_needs_a_module_and_an_attribute(target: str) -> None:
    with pytest.raises(ValueError, match="module:attribute"):
        Deferred(target)


def test_a_deferred_adapter_is_built_by_its_provider(make_container: ContainerFactory) -> None:
    container = make_container(storage="memory")

    assert type(container.audit_log()).__name__ == "MemoryAuditLog"
    assert type(container.library.catalogue_reads()).__name__ == "CachedCatalogueReads"
