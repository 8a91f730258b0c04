"""Custom actions for the rasa-sdk action server (``rasa run actions``). Thin: logic is in bot/."""

from bot.core.settings import SettingsError, get_settings

try:  # rasa-sdk imports this package at start: a bad KOTOBOT_* value stops the server there
    get_settings()
except SettingsError as error:
    raise SystemExit(f"Kotobot: {error}") from None
