"""Logging filters that keep secrets and personal data out of log lines.

Django logs the path of every 4xx/5xx response. Invitation and portal links carry their token
in the path (/intake/<token>/, /portal/enter/<token>/): it is replaced before the line is
written.
"""

from __future__ import annotations

import logging
import re

_SECRET_PATHS = re.compile(r"(/intake/|/portal/enter/)(?!form/|done/)[^/\s]+/")


def redact(text: str) -> str:
    return _SECRET_PATHS.sub(r"\1[redacted]/", text)


class RedactSecretPaths(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
