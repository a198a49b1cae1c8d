"""Versioned prop-firm rule sets a trader picks by name (`preset:` in the config)."""
