"""Write the default periodic jobs (``settings.CELERY_BEAT_DEFAULTS``) into django-celery-beat.

Beat runs with the DatabaseScheduler, so the schedule lives in the database where staff admins
can change it in the Django admin. This command only creates the entries that are missing: a
schedule a staff member edited (or disabled) is left alone, so it is safe to run on every start.
``--reset`` puts the named defaults back as declared in settings.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import ModelEntry

# Every schedule type django-celery-beat stores; exactly one is set on a PeriodicTask.
SCHEDULE_FIELDS = [field for _type, _model, field in ModelEntry.model_schedules]


def _task_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """The PeriodicTask field values for one beat entry (task, schedule, args, kwargs)."""
    unknown = set(entry) - {"task", "schedule", "args", "kwargs", "options", "description"}
    if unknown:
        raise ValueError(f"Unsupported keys in CELERY_BEAT_DEFAULTS entry: {sorted(unknown)}")
    # to_model_schedule reuses an identical CrontabSchedule/IntervalSchedule row if one exists.
    model_schedule, field = ModelEntry.to_model_schedule(entry["schedule"])
    options = entry.get("options") or {}
    fields: dict[str, Any] = dict.fromkeys(SCHEDULE_FIELDS)
    fields.update({
        field: model_schedule,
        "task": entry["task"],
        "args": json.dumps(list(entry.get("args") or [])),
        "kwargs": json.dumps(dict(entry.get("kwargs") or {})),
        "queue": options.get("queue"),
        "expire_seconds": options.get("expire_seconds"),
        "description": entry.get("description", ""),
        "enabled": True,
    })
    return fields


class Command(BaseCommand):
    help = ("Create the default periodic jobs (settings.CELERY_BEAT_DEFAULTS) in the database "
            "scheduler. Existing entries are kept as staff left them unless --reset is given.")

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true",
                            help="Restore every default entry to its declared schedule.")

    @transaction.atomic
    def handle(self, *args, reset: bool = False, **options):
        defaults: dict[str, dict[str, Any]] = settings.CELERY_BEAT_DEFAULTS
        for name, entry in defaults.items():
            task = PeriodicTask.objects.filter(name=name).first()
            if task is None:
                PeriodicTask.objects.create(name=name, **_task_fields(entry))
                self.stdout.write(f"created  {name}")
            elif reset:
                for key, value in _task_fields(entry).items():
                    setattr(task, key, value)
                task.save()
                self.stdout.write(f"reset    {name}")
            else:
                self.stdout.write(f"kept     {name} (already scheduled)")
