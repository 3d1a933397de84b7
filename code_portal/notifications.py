"""E-mail through Django's e-mail backend, rendered in the recipient's language.

Every message has a plain-text and an HTML part, from ``<template>.txt`` / ``<template>.html``
and a one-line ``<template>_subject.txt``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def send_templated_email(
    *,
    to: Iterable[str],
    template: str,
    context: dict[str, Any],
    language: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> int:
    recipients = sorted({addr for addr in to if addr})
    if not recipients:
        return 0
    ctx = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{template}_subject.txt", ctx, using="text").split())
        text = render_to_string(f"{template}.txt", ctx, using="text")
        html = render_to_string(f"{template}.html", ctx)
    message = EmailMultiAlternatives(subject=subject, body=text,
                                     from_email=settings.DEFAULT_FROM_EMAIL, to=recipients)
    message.attach_alternative(html, "text/html")
    for name, content, mimetype in attachments or []:
        message.attach(name, content, mimetype)
    return message.send()
