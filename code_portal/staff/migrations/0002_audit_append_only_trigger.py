"""The audit trail is append-only in the database too (PostgreSQL).

``AuditEvent.save``/``delete`` and the admin refuse changes, but a queryset's ``update()`` or
``delete()`` (or any SQL) would not go through them. This trigger refuses every DELETE and
every UPDATE of ``code_portal_auditevent``, except the one Django itself must make:
``ON DELETE SET NULL`` of ``actor`` and ``signatory`` when a user or a signatory is deleted
(the event keeps ``actor_label`` and ``object_repr``). TRUNCATE (the test database's flush)
is not a row operation and is not affected.

SQLite (the development set-up) has no such trigger: its test flush deletes rows one by one.
"""

from django.db import migrations

FUNCTION = "code_portal_auditevent_append_only"
TRIGGER = "code_portal_auditevent_append_only_trg"

CREATE = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.id, NEW.occurred_at, NEW.actor_label, NEW.action, NEW.content_type_id,
            NEW.object_id, NEW.object_repr, NEW.from_state, NEW.to_state, NEW.reason,
            NEW.changes)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.occurred_at, OLD.actor_label, OLD.action, OLD.content_type_id,
            OLD.object_id, OLD.object_repr, OLD.from_state, OLD.to_state, OLD.reason,
            OLD.changes)
       AND (NEW.actor_id IS NULL OR NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id)
       AND (NEW.signatory_id IS NULL OR NEW.signatory_id IS NOT DISTINCT FROM OLD.signatory_id)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'audit events are append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {TRIGGER} ON code_portal_auditevent;
CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON code_portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
"""

DROP = f"""
DROP TRIGGER IF EXISTS {TRIGGER} ON code_portal_auditevent;
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def _run(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("staff", "0001_initial"),
        ("code_portal", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(_run(CREATE), _run(DROP), elidable=False),
    ]
