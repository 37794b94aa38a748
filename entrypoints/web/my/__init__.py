"""The member pages (``/my``): a signed-in member's own loans, holds, account and notices.

One module per screen. Whose records a page shows is always the signed-in member's
(``me.member_id``): no page takes a member id from its address or a form, and a loan or hold
named in an address is checked to be the member's before anything is done with it.
"""

from __future__ import annotations

from flask import Blueprint

from entrypoints.web.my import (
    account,
    catalogue,
    holds,
    home,
    loans,
    notices,
    refusals,
)

bp = Blueprint("my", __name__, url_prefix="/my")
refusals.register(bp)
for screen in (home, loans, holds, catalogue, account, notices):
    screen.register(bp)
