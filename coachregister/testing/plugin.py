"""Loaded with `-p` before pytest-django sets Django up: marks the process as a test run.

The test environment gets fixed development keys (see settings.py) so that no test depends on
secrets from the machine; production never reads these.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("COACHREGISTER_ENV", "test")
# Keys and evidence outside the database, as in production, but never the developer's var/.
_outside = tempfile.mkdtemp(prefix="coachregister-test-")
atexit.register(shutil.rmtree, _outside, ignore_errors=True)
os.environ.setdefault("COACHREGISTER_KEY_DIR", os.path.join(_outside, "keys"))
os.environ.setdefault("COACHREGISTER_EVIDENCE_DIR", os.path.join(_outside, "evidence"))
