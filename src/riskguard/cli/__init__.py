"""riskguard's command line: one Typer app per command group."""
