"""The architecture page's unit-testing example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
SECTION = "## Unit-testing a use case with the in-memory adapters"


def example_source() -> str:
    text = PAGE.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "the section should hold exactly one Python example"
    return str(blocks[0])


def test_the_unit_testing_example_passes() -> None:
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(example_source(), f"{PAGE}:example", "exec"), namespace)  # noqa: S102

    tests = [value for name, value in namespace.items() if name.startswith("test_")]
    assert tests, "the example defines no test function"
    for test in tests:
        assert callable(test)
        test()
