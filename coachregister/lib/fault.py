"""Fault injection for crash tests: `COACHREGISTER_FAULT_AT=N` makes the process kill itself
with SIGKILL at the N-th `step()` it passes (counted over every step name). Off unless the
variable is set, and refused in production."""

from __future__ import annotations

import os
import signal

_passed = 0


def step(name: str) -> None:
    global _passed
    at = os.environ.get("COACHREGISTER_FAULT_AT")
    if not at or os.environ.get("COACHREGISTER_ENV", "production") == "production":
        return
    _passed += 1
    if _passed == int(at):
        os.kill(os.getpid(), signal.SIGKILL)
