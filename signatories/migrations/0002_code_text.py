"""The current text of The Code, so that a fresh installation can be signed."""

import datetime

from django.db import migrations

CODE_TEXT = """By signing The Code of Conduct for the Protection of Children from Sexual Exploitation in \
Travel and Tourism, our company commits to:

1. Policy — establish a policy and procedures against sexual exploitation of children.
2. Training — train employees in children's rights, the prevention of sexual exploitation and \
how to report suspected cases.
3. Contracts — include a clause in contracts throughout the value chain stating a common \
repudiation and zero-tolerance policy of sexual exploitation of children.
4. Travellers — provide information to travellers on children's rights, the prevention of \
sexual exploitation of children and how to report suspected cases.
5. Stakeholders — support, collaborate with and engage stakeholders in the prevention of \
sexual exploitation of children.
6. Reporting — report annually on the implementation of Code-related activities."""


def create(apps, schema_editor):
    CodeVersion = apps.get_model("signatories", "CodeVersion")
    CodeVersion.objects.get_or_create(
        version="2024",
        defaults={"title": "The Code of Conduct", "text": CODE_TEXT,
                  "published_on": datetime.date(2024, 1, 1), "is_current": True},
    )


class Migration(migrations.Migration):
    dependencies = [("signatories", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
