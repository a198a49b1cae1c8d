"""Sample event files shipped with riskguard: the bundled recorded day."""
