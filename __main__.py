"""``python -m caramba``: the same command-line interface as the ``caramba`` script."""

from caramba.cli.app import main

if __name__ == "__main__":
    main()
