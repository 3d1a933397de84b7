"""The permission check every service starts with."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


def require(actor, perm: str, obj: Any = None) -> None:
    """Refuse unless ``actor`` has the django-rules permission on ``obj``.

    ``actor=None`` is the system (scheduled jobs, tasks): always allowed.
    """
    if actor is not None and not actor.has_perm(perm, obj):
        raise PermissionDenied(_("You are not allowed to do this."))
