"""A readable before/after of an audit event's ``changes`` (page, detail and exports).

Services write ``changes`` as ``{field: {"from": old, "to": new}}`` (see
``code_portal.audit.diff_fields``); some write only ``{"to": value}`` or a bare value. Any
shape is shown, never dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

EMPTY = "–"


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def _label(name: str) -> str:
    return str(name).replace("_", " ").strip().capitalize()


def _text(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or EMPTY
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def readable_changes(changes: Any) -> list[Change]:
    if not changes:
        return []
    if not isinstance(changes, dict):
        return [Change(field="", before=EMPTY, after=_text(changes))]
    result = []
    for name, value in changes.items():
        if isinstance(value, dict) and set(value) <= {"from", "to"} and value:
            result.append(Change(field=_label(name), before=_text(value.get("from")),
                                 after=_text(value.get("to"))))
        else:
            result.append(Change(field=_label(name), before=EMPTY, after=_text(value)))
    return result


def changes_line(changes: Any) -> str:
    """One line for a spreadsheet cell: ``Field: before → after; …``."""
    return "; ".join(
        f"{c.field}: {c.before} → {c.after}" if c.field else c.after
        for c in readable_changes(changes))
