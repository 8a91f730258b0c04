"""Kotobot's dialogue policies (Rasa components, listed in config.yml)."""
