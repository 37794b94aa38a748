"""Implementations of the application ports: storage, time, ids, security."""
