"""Venue adapters: the contract (`base`) and its implementations (paper, and the real venues)."""
