"""SQLAlchemy only: models, engine and sessions, queries. Nothing here knows about HTTP."""
