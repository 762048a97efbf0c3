"""Loaded with `-p` before pytest-django sets Django up: marks the process as a test run.

The test environment gets fixed development keys (see settings.py) so that no test depends on
secrets from the machine; production never reads these.
"""

from __future__ import annotations

import os

os.environ.setdefault("COACHREGISTER_ENV", "test")
