"""Pydantic models of what Circulate says in JSON: what API requests may carry and what
responses contain.

The same models validate requests, generate the OpenAPI document, and print the CLI's
``--json``, so a loan or a member reads the same from every entrypoint.
"""
