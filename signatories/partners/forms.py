"""Forms of the partner pages and of the public confirmation page."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from signatories.partners.models import Partner


class DateInput(forms.DateInput):
    input_type = "date"


class PartnerForm(forms.ModelForm):
    class Meta:
        model = Partner
        fields = ["kind", "name", "country", "city", "contact_email", "website", "language",
                  "contract_reference", "contract_start", "contract_end", "carries_clause"]
        widgets = {"contract_start": DateInput(), "contract_end": DateInput()}


class ConfirmForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    position = forms.CharField(label=_("Your position"), max_length=200)
    date = forms.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)
    agree = forms.BooleanField(
        label=_("I confirm, for our company, that we adhere to these guidelines."))


class DeclineForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    position = forms.CharField(label=_("Your position"), max_length=200)
    reason = forms.CharField(label=_("Why do you decline?"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (CSV or XLSX)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}))
    import_valid_rows = forms.BooleanField(
        required=False, label=_("Import the valid rows even if some rows have errors"),
        help_text=_("Without this, nothing is imported from a file with errors."))


class LinkForm(forms.Form):
    linked_signatory = forms.IntegerField(widget=forms.HiddenInput())
