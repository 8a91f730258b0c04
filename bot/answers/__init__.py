"""What the action server composes: local services, dialogue helpers, the feedback log."""
