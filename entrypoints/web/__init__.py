"""The browser entrypoint: the staff desk (``/desk``) and the member pages (``/my``).

Server-rendered Jinja2 pages over the same use cases the JSON API calls: no rule lives here,
only the words and the layout. One parent blueprint, ``web``, carries what every page shares
(sessions, CSRF, the pages' own Content Security Policy, HTML error pages, who may see each
page); each screen is a child blueprint in a module of its own.

Adding pages: a child blueprint, registered in ``setup.init_app``; each view declares its
audience (``audience.staff_required``, ``audience.member_required`` or ``audience.page``), or
it is closed. Templates extend ``web/base.html``; forms carry ``csrf_field()`` from
``web/macros.html``. The member pages' start page is the endpoint ``web.my.home``, where members
land after signing in.
"""

from entrypoints.web.setup import init_app, init_sessions

__all__ = ["init_app", "init_sessions"]
