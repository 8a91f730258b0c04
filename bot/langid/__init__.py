"""Language identification: backends, the per-message detector and the keep-or-switch policy."""
