"""Indexes for the signatory lists at scale (see bench/README.md for the figures).

- (legal_name, id): the lists' ORDER BY, so an unfiltered page reads 25 index entries.
- UPPER(membership_number): the search's exact match on the number.
- On PostgreSQL only, trigram GIN indexes on UPPER(legal_name) and UPPER(trading_name), which
  is exactly what Django's ``icontains`` compares, so a name search is an index lookup instead
  of a scan of every row. pg_trgm is a trusted extension (any database owner may create it);
  where it cannot be created the indexes are skipped and search still works, only slower.
"""

import django.db.models.functions.text
from django.db import migrations, models, transaction
from django.db.utils import DatabaseError

TRIGRAM_INDEXES = {
    "sig_legal_name_trgm_idx": "legal_name",
    "sig_trading_name_trgm_idx": "trading_name",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError:
        return
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON signatories_signatory "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("signatories", "0002_code_text"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="signatory",
            index=models.Index(fields=["legal_name", "id"], name="sig_name_order_idx"),
        ),
        migrations.AddIndex(
            model_name="signatory",
            index=models.Index(
                django.db.models.functions.text.Upper("membership_number"),
                name="sig_upper_number_idx",
            ),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
