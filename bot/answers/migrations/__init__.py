"""Alembic migrations of the feedback log's table (bot/answers/migrate.py runs them; env.py is
Alembic's entry point). A package so that the revision files are installed with the code."""
