"""Command-line tools (generate, checks, report, retention, migrate, layout) and the harness."""
