from django import forms
from django.utils.translation import gettext_lazy as _


class PreferenceForm(forms.Form):
    optional_reminders = forms.BooleanField(
        label=_("Send me optional reminders"), required=False,
        help_text=_("Training refreshers, reminders to reporters and the staff digests. "
                    "Reminders that a company administrator's report is due or overdue are "
                    "always sent."),
    )
