"""``python -m pgpart``: the pgpart command."""

import sys

from .cli import main

sys.exit(main())
