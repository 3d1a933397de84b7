"""``{% training_coverage signatory as coverage %}``: today's coverage for a dashboard card."""

from __future__ import annotations

from django import template
from django.utils import timezone

from training.coverage import Coverage, coverage_for

register = template.Library()


@register.simple_tag(takes_context=True)
def training_coverage(context, signatory) -> Coverage | None:
    request = context.get("request")
    if request is None or not request.user.has_perm("training.view", signatory):
        return None
    return coverage_for(signatory, timezone.localdate())
