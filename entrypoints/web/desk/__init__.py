"""The staff desk (``/desk``): one module per screen, all for librarians and admins."""

from __future__ import annotations

from flask import Blueprint

from entrypoints.web.desk import catalogue, checkin, checkout, home, lists, member

bp = Blueprint("desk", __name__, url_prefix="/desk")
for screen in (home, checkout, checkin, member, catalogue, lists):
    screen.register(bp)
