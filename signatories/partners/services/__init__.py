"""Every write to partners and confirmation requests: atomic, permission-checked, audited.

``actor=None`` is the system or, for the public link, the anonymous partner (the audit row then
says "system"; the request itself keeps the responder's name, IP address and browser).

A package (re-exported here): ``partners`` (partners, kept state, imports), ``requests``
(sending, cancelling, e-mails, expiry, reminders), ``answers`` (confirm, decline, new link).
"""

from signatories.partners.services.answers import (
    confirmation_confirm,
    confirmation_decline,
    confirmation_new_link,
)
from signatories.partners.services.partners import (
    EMAIL_BATCH,
    IMPORT_MAX_BYTES,
    PARTNER_FIELDS,
    partner_create,
    partner_delete,
    partner_import_create,
    partner_link,
    partner_state_refresh,
    partner_update,
)
from signatories.partners.services.requests import (
    REMINDER_TEMPLATE,
    BulkResult,
    confirmation_emails_send,
    confirmation_reminders_claim,
    confirmation_request_cancel,
    confirmation_request_send,
    confirmation_requests_expire,
    confirmation_requests_expire_one,
    confirmation_requests_send,
)

__all__ = [
    "EMAIL_BATCH", "IMPORT_MAX_BYTES", "PARTNER_FIELDS", "REMINDER_TEMPLATE", "BulkResult",
    "confirmation_confirm", "confirmation_decline", "confirmation_emails_send",
    "confirmation_new_link", "confirmation_reminders_claim", "confirmation_request_cancel",
    "confirmation_request_send", "confirmation_requests_expire",
    "confirmation_requests_expire_one", "confirmation_requests_send", "partner_create",
    "partner_delete", "partner_import_create", "partner_link", "partner_state_refresh",
    "partner_update",
]
