"""Entry point of `python -m clearml_local`."""

import sys

from clearml_local.cli import main

sys.exit(main())
