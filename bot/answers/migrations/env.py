"""Alembic's entry point: run by ``python -m bot.tools.migrate``, the feedback log when it first
opens its database, and ``alembic -c bot/answers/migrations/alembic.ini ...``. The work is in
bot/answers/migrate.py."""

from logging.config import fileConfig

from alembic import context

from bot.answers import migrate
from bot.answers.feedback import configured_url, metadata

config = context.config
# The alembic command line (alembic.ini) logs to stderr; the bot and tests keep their logging.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    migrate.run_offline(context, metadata, configured_url)
else:
    migrate.run_online(context, metadata, configured_url)
