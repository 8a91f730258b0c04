"""Basics every process uses: taxonomy, locales, settings, paths, privacy, HTTP helper."""
