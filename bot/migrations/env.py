"""Alembic's entry point: run by ``python -m bot.migrate``, the feedback log when it first opens
its database, and ``alembic -c bot/migrations/alembic.ini ...``. The work is in bot/migrate.py."""

from logging.config import fileConfig

from alembic import context

from bot import migrate
from bot.feedback import metadata

config = context.config
# The alembic command line (alembic.ini) logs to stderr; the bot and tests keep their logging.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    migrate.run_offline(context, metadata)
else:
    migrate.run_online(context, metadata)
