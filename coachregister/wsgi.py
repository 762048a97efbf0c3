"""WSGI entry point for gunicorn.

Runs the system checks before serving, so production refuses to start without its secret key
and master key (checks coachregister.E001–E003) instead of failing on the first request.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coachregister.settings")

application = get_wsgi_application()

from coachregister.checks import refuse_to_start_on_errors  # noqa: E402

refuse_to_start_on_errors()
