"""Everything the Rasa server loads: NLU components, policies, channels, NLG, stores, start."""
