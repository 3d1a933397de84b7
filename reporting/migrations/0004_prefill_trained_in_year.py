"""The default questionnaire's "How many customer-facing employees were trained this year?" is
prefilled with the people trained during the reporting year (it took everyone whose training was
still valid, however old). Only the prefill source changes: the wording stays, and answers already
saved are not touched."""

from django.db import migrations, models

QUESTION = "training-cf-trained"
OLD, NEW = "training.customer_facing_trained", "training.customer_facing_trained_in_year"


def forwards(apps, schema_editor):
    Question = apps.get_model("reporting", "Question")
    Question.objects.filter(section__questionnaire__year=2025, section__questionnaire__version=1,
                            code=QUESTION, prefill=OLD).update(prefill=NEW)


def backwards(apps, schema_editor):
    Question = apps.get_model("reporting", "Question")
    Question.objects.filter(section__questionnaire__year=2025, section__questionnaire__version=1,
                            code=QUESTION, prefill=NEW).update(prefill=OLD)


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0003_certificates"),
    ]

    operations = [
        migrations.AlterField(
            model_name="question",
            name="prefill",
            field=models.CharField(blank=True, choices=[
                ("", "None"),
                ("training.customer_facing_trained",
                 "Training log: customer-facing employees with valid training"),
                ("training.customer_facing_trained_in_year",
                 "Training log: customer-facing employees trained during the reporting year"),
                ("training.customer_facing_share",
                 "Training log: share of customer-facing employees trained"),
                ("partners.clause_share",
                 "Hotel partners: share of contracts with the Code clause"),
            ], default="", max_length=60, verbose_name="prefill from"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
