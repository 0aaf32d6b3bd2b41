"""Run the command line: `python -m instrument`."""

from instrument.cli import main

main()
