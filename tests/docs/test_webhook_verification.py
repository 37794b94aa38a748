"""The README's webhook verification snippet accepts what Circulate signs, and nothing else."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from application.webhooks import sign

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Webhooks for other systems"

Verify = Callable[[str, str, bytes], bool]


def readme_verify() -> Verify:
    section = README.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    namespace: dict[str, object] = {}
    exec(compile(block, f"{README}:webhooks", "exec"), namespace)  # noqa: S102
    return cast(Verify, namespace["verify"])


def test_a_delivery_signed_by_circulate_verifies_and_a_changed_one_does_not() -> None:
    verify = readme_verify()
    body = b'{"id": "e1", "type": "loan.created", "data": {"loan_id": "l1"}}'
    now = int(time.time())
    header = sign("s3cret", now, body)

    assert verify("s3cret", header, body)
    assert not verify("s3cret", header, body.replace(b"l1", b"l2"))
    assert not verify("another", header, body)
    assert not verify("s3cret", sign("s3cret", now - 3600, body), body)  # an old replay
