"""E-mail templates compute the partner's link at render time from the request id, so the
token is never stored (not even in a queued notification's context)."""

from django import template

from signatories.partners import tokens
from signatories.partners.models import ConfirmationRequest

register = template.Library()


@register.simple_tag
def confirmation_link(request_id: int) -> str:
    salt = (ConfirmationRequest.objects.filter(pk=request_id)
            .values_list("token_salt", flat=True).first())
    return tokens.confirmation_url(salt) if salt else ""
