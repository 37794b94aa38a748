"""The API's endpoints, one module per resource: each declares its routes with ``operation``
(``entrypoints/http/openapi.py``), who may call them, and calls the use cases."""
