"""The desk's start page: the screens, one key press away."""

from __future__ import annotations

from flask import Blueprint, render_template

from entrypoints.web.audience import staff_required


@staff_required
def home() -> str:
    return render_template("web/desk/home.html")


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/", "home", home)
