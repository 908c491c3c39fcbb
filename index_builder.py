#!/usr/bin/env python3
"""Build the guide search index from content/ (the same code as `guide build-index`).

    python index_builder.py [--content DIR] [--out DIR] [--check]
"""

import sys

from guide_server.cli import build_index_main

if __name__ == "__main__":
    sys.exit(build_index_main())
