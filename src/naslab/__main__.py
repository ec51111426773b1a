"""``python -m naslab`` = the ``naslab`` command."""

from naslab.cli.main import main

if __name__ == "__main__":
    main()
