"""SQLAlchemy adapters: the schema, the repositories and the unit of work over SQLite or PostgreSQL.

Nothing here connects at import time: ``engine.create_engine_for`` makes an engine when asked.
"""
