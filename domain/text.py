"""What counts as text: no control characters.

NUL, the other C0 and C1 controls, DEL and lone surrogates are never part of a name, a title, an
email or an identifier. The HTTP edge refuses them in every request; the CLI shows any it meets
escaped, so that no stored value can drive a terminal.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the surrogate range (only ever lone in a str).
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def escape_control_characters(text: str) -> str:
    """``text`` with each control character written as a visible escape (``\\x1b``)."""
    return CONTROL_CHARACTERS.sub(
        lambda match: match.group().encode("unicode_escape", "backslashreplace").decode("ascii"),
        text,
    )
