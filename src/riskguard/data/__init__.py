"""Data files shipped with riskguard (the bundled sample day)."""
