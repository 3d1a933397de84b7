"""django-allauth glue: accounts are created by applying or by accepting an invitation."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # No free sign-up: people join by applying for their company or by invitation.
        return False
