"""Database sessions that ignore a session cookie Django could never have issued.

Django's keys are 32 characters of [a-z0-9]. A forged cookie with other characters (a NUL byte
makes PostgreSQL reject the lookup with an error, a 500 on every page) is treated as no session.
"""

from __future__ import annotations

import re

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

SESSION_KEY = re.compile(r"[a-z0-9]{8,40}")


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(key) and SESSION_KEY.fullmatch(key) is not None
