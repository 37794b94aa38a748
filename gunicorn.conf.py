"""gunicorn's configuration when started from this directory (``gunicorn`` with no options).

The settings live in the package (``entrypoints/gunicorn_conf.py``), which ``circulate serve
--workers N`` uses too, so an installed package and a checkout serve the same way.
"""

from entrypoints.gunicorn_conf import *  # noqa: F403
