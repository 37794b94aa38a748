"""The README's unit-testing example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Unit-testing a use case with the in-memory adapters"


def example_source() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "the section should hold exactly one Python example"
    return str(blocks[0])


def test_the_readme_example_passes() -> None:
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(example_source(), f"{README}:example", "exec"), namespace)  # noqa: S102

    tests = [value for name, value in namespace.items() if name.startswith("test_")]
    assert tests, "the example defines no test function"
    for test in tests:
        assert callable(test)
        test()
