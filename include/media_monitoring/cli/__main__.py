"""``python -m media_monitoring.cli``: the same as the ``media-monitor`` command."""

import sys

from media_monitoring.cli import main

sys.exit(main())
