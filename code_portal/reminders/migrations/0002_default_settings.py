"""One settings row per reminder kind, with the defaults of the time, so staff admins find every
kind in the Django admin. A kind without a row still uses the defaults in ``kinds.py``."""

from django.db import migrations

DEFAULTS = {
    "report-due": ([60, 30, 7], None),
    "report-overdue": ([1], 14),
    "report-overdue-digest": ([1], None),
    "report-escalation": ([90], None),
    "training-refresher": ([30], None),
    "partner-confirmation-pending": ([7, 21], None),
    "applications-waiting": ([5], None),
}


def create(apps, schema_editor):
    ReminderConfig = apps.get_model("reminders", "ReminderConfig")
    for kind, (offsets, repeat) in DEFAULTS.items():
        ReminderConfig.objects.get_or_create(
            kind=kind, defaults={"offsets": offsets, "repeat_every_days": repeat})


class Migration(migrations.Migration):
    dependencies = [("reminders", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
