"""What runs around every request, before and after the view: authentication, access rules,
rate limits, request ids, bodies, conditional requests, idempotency, security headers, logs
and metrics. ``guard.py`` installs the first three in the one order that works."""
