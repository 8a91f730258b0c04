"""Custom actions for the rasa-sdk action server (``rasa run actions``). Thin: logic is in bot/."""
