"""The revisions, oldest first: 0001_feedback_initial.py, 0002_feedback_id.py, ..."""
