"""Alembic migrations of the SQL schema (``adapters.sqlalchemy.models``).

Run them with ``circulate db upgrade`` or ``adapters.sqlalchemy.migrate``; both find this
directory through the installed package, so no ``alembic.ini`` or working directory is needed.
"""
