"""A mail backend for the fault test: one file per delivered message, written after a pause.

While a message is "on the wire" (the pause) a marker file says so, so the test can SIGKILL the
worker at that moment: mid-fan-out, with a notification claimed but not yet delivered.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

PAUSE = float(os.environ.get("REMINDERS_TEST_MAIL_PAUSE", "0.3"))


class SlowFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        directory = Path(settings.EMAIL_FILE_PATH)
        sent = 0
        for message in email_messages:
            marker = directory / "in-flight"
            marker.write_text(message.subject)
            time.sleep(PAUSE)
            name = directory / f"{time.time_ns()}-{uuid.uuid4().hex}.eml"
            name.write_bytes(message.message().as_bytes())
            marker.unlink(missing_ok=True)
            sent += 1
        return sent


def delivered(directory: Path) -> list[str]:
    """Subjects of the messages delivered so far (one file each)."""
    from email import message_from_bytes
    from email.header import decode_header, make_header

    subjects = []
    for path in sorted(directory.glob("*.eml")):
        subjects.append(str(make_header(decode_header(message_from_bytes(
            path.read_bytes())["Subject"]))))
    return subjects
