"""Writing the audit trail. Services call :func:`audit_record` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from code_portal.models import AuditEvent, User


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def diff_fields(instance: models.Model, before: dict[str, Any], fields: list[str]) -> dict:
    """Before/after of the given fields that changed, as JSON-safe values."""
    changes = {}
    for name in fields:
        old, new = before.get(name), getattr(instance, name)
        if old != new:
            changes[name] = {"from": _jsonable(old), "to": _jsonable(new)}
    return changes


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model,
    signatory: models.Model | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    changes: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=(actor.email if actor is not None and actor.pk else "system"),
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        signatory=signatory,
        from_state=from_state or "",
        to_state=to_state or "",
        reason=reason or "",
        changes=changes or {},
    )
