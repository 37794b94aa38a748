"""Identity and access: signing in, tokens, API keys, service clients and signing keys.

Modules: ``ports`` (what these use cases need from outside), ``unit_of_work`` (the slice's own
transaction over members and credentials), ``keyset`` (the signing key set as data), ``opaque``
(random secrets stored as digests), and one module per use-case service: ``sessions``,
``api_keys``, ``clients``, ``signing_keys``. The library's use cases import none of these but
``ports`` (an import-linter contract keeps it so).
"""
