"""Identity and access: signing in, tokens, API keys, service clients and signing keys.

Modules: ``ports`` (what these use cases need from outside), ``keyset`` (the signing key set as
data), ``opaque`` (random secrets stored as digests), and one module per use-case service:
``sessions``, ``api_keys``, ``clients``, ``signing_keys``. This module imports none of them, so
``application.unit_of_work`` can import the repository ports without a cycle.
"""
