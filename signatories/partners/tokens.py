"""The partner's e-mailed link: unguessable, never stored, the same in every e-mail.

token = base64url(HMAC-SHA256(SECRET_KEY, "partners.confirm:" + salt)), 256 bits. The request
keeps the random salt and the SHA-256 of the token (the lookup); a copy of the database alone
does not give a working link. Because the token is derived, a reminder e-mail carries the same
link as the first e-mail without the token ever being stored or passed to the broker: the
e-mail templates compute it at render time from the request id (``partner_links`` tag).
Rotating ``SECRET_KEY`` invalidates outstanding links; the partner then asks for a new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings
from django.urls import reverse

SALT_BYTES = 32


def new_salt() -> str:
    return secrets.token_hex(SALT_BYTES)


def token_for(salt: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"partners.confirm:{salt}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def salt_and_hash() -> tuple[str, str]:
    salt = new_salt()
    return salt, token_hash(token_for(salt))


def confirmation_url(salt: str) -> str:
    return settings.SITE_URL + reverse("partner-confirm", args=[token_for(salt)])
