"""Settings of the worker subprocess the fault test starts and SIGKILLs (test_worker_fault.py).

The project's settings, plus: a private queue, a slow file-based mail backend (so that the kill
lands in the middle of the fan-out), a short Redis visibility timeout and send lease (so that
what the killed worker held comes back in seconds, not an hour).
"""

import os

from code_portal.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["REMINDERS_TEST_QUEUE"]
EMAIL_BACKEND = "tests.code_portal.reminders.slow_mail.SlowFileBackend"
EMAIL_FILE_PATH = os.environ["REMINDERS_TEST_MAIL_DIR"]
