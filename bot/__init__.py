"""Kotobot: shared code of the Rasa assistant and its action server."""
