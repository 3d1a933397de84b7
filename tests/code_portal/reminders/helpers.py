"""Builders for reminder tests: a signed company whose report falls due on a known date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.core import mail

from code_portal.reminders.models import Notification


def at(day: date, hour: int = 6) -> datetime:
    """The moment beat runs the scans on ``day`` (UTC)."""
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def sign(signatory, member_since: date) -> None:
    """Company signed on ``member_since``: its report for that year is due a year later."""
    type(signatory).objects.filter(pk=signatory.pk).update(member_since=member_since,
                                                           reporting_deadline=None)
    signatory.refresh_from_db()


def due_on(signatory, due: date) -> None:
    """Company whose report for ``due.year - 1`` falls due on ``due`` (any day of the year).

    Signed a year before ``due``; when ``due`` is 29 February there is no such anniversary, so
    the company signed on 28 February and staff set the deadline to ``due`` — the same date the
    scans then find, through the other branch of ``default_due_date``.
    """
    if (due.month, due.day) == (2, 29):
        type(signatory).objects.filter(pk=signatory.pk).update(
            member_since=date(due.year - 1, 2, 28), reporting_deadline=due)
        signatory.refresh_from_db()
    else:
        sign(signatory, due.replace(year=due.year - 1))


def run(scan, day: date, time_machine, capture, hour: int = 6):
    """Run a scan at 06:00 UTC on ``day`` and deliver what it fanned out (eager tasks)."""
    time_machine.move_to(at(day, hour), tick=False)
    with capture(execute=True):
        return scan()


def subjects() -> list[str]:
    return [m.subject for m in mail.outbox]


def keys(kind: str | None = None) -> list[str]:
    qs = Notification.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    return sorted(qs.values_list("key", flat=True))


def days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)
