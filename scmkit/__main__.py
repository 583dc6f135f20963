"""``python -m scmkit``: the same command line as the ``scmkit`` script."""

import sys

from .cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
