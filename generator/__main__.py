"""``python -m generator`` runs the ``scaffold`` command line."""

from generator.cli import main

if __name__ == "__main__":
    main(prog_name="scaffold")
