"""`python -m bench [--demo-url URL] [--large-url URL] [--runs N] [--pages ...]`."""

import sys

from bench.run import main

if __name__ == "__main__":
    sys.exit(main())
