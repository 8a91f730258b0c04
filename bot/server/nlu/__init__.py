"""Custom Rasa NLU components, registered in config.yml by their module path."""
