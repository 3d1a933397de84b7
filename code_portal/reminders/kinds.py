"""The reminder kinds and their defaults, declared once.

Staff admins override offsets and switch kinds off in the Django admin (``ReminderConfig``);
without a row the defaults below apply. Offsets are whole days:

- ``report-due``: days *before* the report's due date (each one once);
- ``report-overdue``: days *after* the due date, then every ``repeat_every_days``;
- ``report-escalation``: the grace period in days after the due date (first offset);
- ``training-refresher``: days before a training record expires (first offset);
- ``partner-confirmation-pending``: days after a hotel partner was asked to confirm;
- ``applications-waiting``: days an application may wait for staff before the digest lists it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

REPORT_DUE = "report-due"
REPORT_OVERDUE = "report-overdue"
REPORT_OVERDUE_DIGEST = "report-overdue-digest"
REPORT_ESCALATION = "report-escalation"
TRAINING_REFRESHER = "training-refresher"
PARTNER_CONFIRMATION_PENDING = "partner-confirmation-pending"
APPLICATIONS_WAITING = "applications-waiting"


@dataclass(frozen=True)
class KindDefaults:
    label: str
    offsets: tuple[int, ...]
    repeat_every_days: int | None = None
    # Optional reminders are not sent to users who unsubscribed from optional reminders.
    optional: bool = True


DEFAULTS: dict[str, KindDefaults] = {
    REPORT_DUE: KindDefaults(_("Annual report due soon"), (60, 30, 7), optional=False),
    REPORT_OVERDUE: KindDefaults(_("Annual report overdue"), (1,), repeat_every_days=14,
                                 optional=False),
    REPORT_OVERDUE_DIGEST: KindDefaults(_("Overdue reports: staff digest"), (1,)),
    REPORT_ESCALATION: KindDefaults(_("Escalation after the grace period"), (90,),
                                    optional=False),
    TRAINING_REFRESHER: KindDefaults(_("Training refresher due"), (30,)),
    PARTNER_CONFIRMATION_PENDING: KindDefaults(_("Hotel partner confirmation pending"),
                                               (7, 21), optional=False),
    APPLICATIONS_WAITING: KindDefaults(_("Applications waiting for staff: digest"), (5,)),
}

KIND_CHOICES = [(kind, defaults.label) for kind, defaults in DEFAULTS.items()]
