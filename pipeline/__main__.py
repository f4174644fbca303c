"""`python -m pipeline`: see pipeline/cli.py."""
import sys

from .commands.cli import main

sys.exit(main())
