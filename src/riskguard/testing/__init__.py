"""Test aids that ship with riskguard: factories for domain values (see factories.py)."""
