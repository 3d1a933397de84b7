"""`manage.py setup_schedules`: the default periodic jobs, written once, then owned by staff."""

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

pytestmark = pytest.mark.django_db

DEFAULTS = {
    "purge-expired-invitations": {
        "task": "signatories.tasks.purge_expired_invitations",
        "schedule": crontab(hour=3, minute=15),
    },
    "every-ten-minutes": {
        "task": "signatories.tasks.purge_expired_invitations",
        "schedule": timedelta(minutes=10),
        "kwargs": {"dry_run": True},
    },
}


@pytest.fixture(autouse=True)
def _defaults(settings):
    settings.CELERY_BEAT_DEFAULTS = DEFAULTS


def test_creates_every_default_schedule_enabled():
    call_command("setup_schedules")

    nightly = PeriodicTask.objects.get(name="purge-expired-invitations")
    assert nightly.task == "signatories.tasks.purge_expired_invitations"
    assert nightly.enabled
    assert (nightly.crontab.hour, nightly.crontab.minute) == ("3", "15")
    assert nightly.interval is None
    frequent = PeriodicTask.objects.get(name="every-ten-minutes")
    assert (frequent.interval.every, frequent.interval.period) == (600, IntervalSchedule.SECONDS)
    assert frequent.kwargs == '{"dry_run": true}'


def test_running_twice_creates_nothing_new():
    call_command("setup_schedules")
    counts = (PeriodicTask.objects.count(), CrontabSchedule.objects.count(),
              IntervalSchedule.objects.count())

    call_command("setup_schedules")

    assert (PeriodicTask.objects.count(), CrontabSchedule.objects.count(),
            IntervalSchedule.objects.count()) == counts


def test_keeps_a_schedule_that_staff_edited_or_disabled():
    call_command("setup_schedules")
    task = PeriodicTask.objects.get(name="purge-expired-invitations")
    task.crontab = CrontabSchedule.objects.create(hour="5", minute="0")
    task.enabled = False
    task.save()

    call_command("setup_schedules")

    task.refresh_from_db()
    assert (task.crontab.hour, task.crontab.minute, task.enabled) == ("5", "0", False)


def test_recreates_a_default_that_was_deleted():
    call_command("setup_schedules")
    PeriodicTask.objects.filter(name="every-ten-minutes").delete()

    call_command("setup_schedules")

    assert PeriodicTask.objects.filter(name="every-ten-minutes", enabled=True).exists()


def test_reset_restores_the_declared_schedule():
    call_command("setup_schedules")
    task = PeriodicTask.objects.get(name="purge-expired-invitations")
    task.crontab = CrontabSchedule.objects.create(hour="5", minute="0")
    task.enabled = False
    task.save()

    call_command("setup_schedules", "--reset")

    task.refresh_from_db()
    assert (task.crontab.hour, task.crontab.minute, task.enabled) == ("3", "15", True)


def test_every_default_in_settings_schedules_a_registered_task(settings):
    from code_portal import settings as project_settings
    from code_portal.celery import app

    settings.CELERY_BEAT_DEFAULTS = project_settings.CELERY_BEAT_DEFAULTS
    call_command("setup_schedules")

    app.loader.import_default_modules()
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert names == set(project_settings.CELERY_BEAT_DEFAULTS)
    for task in PeriodicTask.objects.all():
        assert task.task in app.tasks, f"{task.name} schedules unknown task {task.task}"
