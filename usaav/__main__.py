"""``python -m usaav``: the same as the ``usaav`` command (see :mod:`usaav.cli`)."""

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main(prog="python -m usaav"))
