from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from signatories.models import (
    AuditItemStatus,
    AuditOutcome,
    MembershipRole,
    Signatory,
    SignatoryType,
)
from signatories.permissions import REASON_REQUIRED
from signatories.services import PROFILE_FIELDS


class SignatoryProfileForm(forms.ModelForm):
    class Meta:
        model = Signatory
        fields = PROFILE_FIELDS
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, lock_country: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if lock_country:  # a company user: only Code staff move a signatory to another country
            self.fields["country"].disabled = True
            self.fields["country"].help_text = _("To change the country, contact Code staff.")


class ApplicationForm(SignatoryProfileForm):
    """Apply to sign The Code. Anonymous applicants also create their login here."""

    applicant_name = forms.CharField(label=_("Your name"), max_length=200, required=False)
    applicant_email = forms.EmailField(label=_("Your e-mail (your login)"), required=False)
    password = forms.CharField(label=_("Choose a password"), required=False,
                               widget=forms.PasswordInput(render_value=False),
                               help_text=_("At least 10 characters."))
    no_residential_care = forms.BooleanField(
        label=_("Our products do not include visits to orphanages or residential care "
                "institutions for children."),
        required=True,
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is not None and user.is_authenticated:
            for name in ("applicant_name", "applicant_email", "password"):
                del self.fields[name]
        else:
            for name in ("applicant_name", "applicant_email", "password"):
                self.fields[name].required = True

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if password:
            validate_password(password)
        return password


class ReasonForm(forms.Form):
    # Whether a reason is required depends on the transition; the service says so (field error).
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}),
                             required=False, max_length=4000,
                             error_messages={"max_length": _("The reason is too long.")})


# The button and the label of the reason field of each transition form: one label per form, so a
# screen reader (and a person) can tell "reason for rejecting" from "reason for approving".
TRANSITION_TEXTS = {
    "approve": (_("Approve"), _("Reason for approving (optional)")),
    "reject": (_("Reject"), _("Reason for rejecting")),
    "flag_overdue": (_("Flag as reporting overdue"), _("Reason for flagging as overdue")),
    "suspend": (_("Suspend"), _("Reason for suspending")),
    "reinstate": (_("Reinstate"), _("Reason for reinstating")),
    "withdraw": (_("Withdraw"), _("Reason for withdrawing")),
    "expel": (_("Expel"), _("Reason for expelling")),
}
DANGEROUS_TRANSITIONS = {"reject", "suspend", "expel", "withdraw"}


def transition_forms(transitions: list[str], failed: tuple[str, ReasonForm] | None = None
                     ) -> list[dict]:
    """What the action forms of a signatory page show; after a refused attempt, that form keeps
    the typed reason and shows the error next to it."""
    forms_ = []
    for name in transitions:
        if name not in TRANSITION_TEXTS:  # signing has its own page
            continue
        button, label = TRANSITION_TEXTS[name]
        form = failed[1] if failed and failed[0] == name else None
        forms_.append({
            "name": name, "button": button, "label": label,
            "required": name in REASON_REQUIRED, "danger": name in DANGEROUS_TRANSITIONS,
            "value": form.data.get("reason", "") if form is not None else "",
            "errors": form.errors.get("reason", []) if form is not None else [],
        })
    return forms_


class SignForm(forms.Form):
    signer_name = forms.CharField(label=_("Full name of the person signing"), max_length=200)
    signer_title = forms.CharField(label=_("Title or position"), max_length=200)
    confirm = forms.BooleanField(
        label=_("I am authorised to sign The Code on behalf of this company and I have read "
                "the text above."),
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=MembershipRole.choices,
                             initial=MembershipRole.REPORTER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=MembershipRole.choices)


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    password = forms.CharField(label=_("Choose a password"), widget=forms.PasswordInput,
                               help_text=_("At least 10 characters."))

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class StaffNoteForm(forms.Form):
    text = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=10000)


# --- Sampling for audits (issue 8) ---------------------------------------------------------------

class AuditSampleDrawForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False,
                            help_text=_("For example “2026 audits, first round”."))
    country = forms.ChoiceField(label=_("Country"), required=False)
    types = forms.MultipleChoiceField(
        label=_("Types"), choices=SignatoryType.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every type."))
    size = forms.IntegerField(label=_("Number of signatories"), min_value=1, required=False)
    percentage = forms.DecimalField(label=_("or percentage of the population"), min_value=0,
                                    max_value=100, decimal_places=2, required=False)
    seed = forms.CharField(label=_("Seed"), max_length=64, required=False,
                           help_text=_("Leave empty to generate one. The same seed over the "
                                       "same population draws the same sample."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from django_countries import countries

        from signatories.permissions import is_central_staff

        if is_central_staff(user):
            self.fields["country"].choices = [("", _("Every country"))] + list(countries)
        else:
            mine = {c.code for c in user.staff_countries}
            self.fields["country"].choices = [(code, name) for code, name in countries
                                              if code in mine]
            self.fields["country"].required = True

    def clean(self):
        data = super().clean()
        if (data.get("size") is None) == (data.get("percentage") is None):
            raise forms.ValidationError(_("Give either a number of signatories or a percentage."))
        return data


class AuditItemForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=AuditItemStatus.choices)
    auditor = forms.ModelChoiceField(label=_("Auditor"), queryset=None, required=False)
    findings = forms.CharField(label=_("Findings"), required=False, max_length=20000,
                               widget=forms.Textarea(attrs={"rows": 6}))
    outcome = forms.ChoiceField(label=_("Outcome"), required=False,
                                choices=[("", "—")] + list(AuditOutcome.choices))
    follow_up_on = forms.DateField(label=_("Follow-up date"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, auditors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["auditor"].queryset = auditors
        self.fields["auditor"].label_from_instance = lambda user: (
            f"{user.full_name} <{user.email}>" if user.full_name else user.email)
