"""``python -m socialaudit`` runs the CLI."""

from socialaudit.cli import main

main()
