"""`python -m riskguard` runs the command line, the same as the `riskguard` script."""

from riskguard.cli.main import main

if __name__ == "__main__":
    main()
