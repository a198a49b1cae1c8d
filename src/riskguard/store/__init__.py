"""The daemon's durable state: a journal of events, decisions and actions, snapshots, settings.

SQLite (WAL) by default, through SQLAlchemy so the same schema and Alembic migrations serve
PostgreSQL when several daemons share a database.
"""
