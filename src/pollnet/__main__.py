"""``python -m pollnet`` runs the command line."""

from pollnet.cli import main

main()
