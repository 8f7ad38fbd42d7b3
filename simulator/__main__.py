"""`python -m simulator` runs the hashkey-sim command."""

from simulator.cli import main

main()
