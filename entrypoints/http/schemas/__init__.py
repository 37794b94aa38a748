"""Pydantic models of the HTTP API: what requests may carry and what responses contain.

The same models validate requests and generate the OpenAPI document.
"""
