"""Forms of the training pages. They parse input; the services validate the domain rules."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from signatories.models import Signatory
from training.models import Course, TrainingSession
from training.services import COURSE_FIELDS, SESSION_FIELDS, courses_available_q


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        # the browser's date picker sends and expects ISO dates
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def available_courses(signatory: Signatory, current: Course | None = None):
    """Offered catalogue and own courses; the course already chosen stays selectable."""
    offered = Q(is_active=True)
    if current is not None:
        offered |= Q(pk=current.pk)
    return Course.objects.filter(courses_available_q(signatory)).filter(offered).order_by(
        "signatory", "title", "id")


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = COURSE_FIELDS
        widgets = {"duration_hours": forms.NumberInput(attrs={"min": "0.1", "step": "0.5"}),
                   "validity_months": forms.NumberInput(attrs={"min": "1"})}

    # The database's check constraints, as messages on the field (instead of a generic
    # "constraint violated" at the top of the form).
    def clean_duration_hours(self):
        hours = self.cleaned_data["duration_hours"]
        if hours is not None and hours <= 0:
            raise forms.ValidationError(_("Enter a duration above zero."))
        return hours

    def clean_validity_months(self):
        months = self.cleaned_data["validity_months"]
        if months == 0:
            raise forms.ValidationError(_("Enter at least one month, or leave empty if the "
                                          "course never expires."))
        return months


class SessionForm(forms.ModelForm):
    class Meta:
        model = TrainingSession
        fields = SESSION_FIELDS
        widgets = {"starts_on": DateInput(), "ends_on": DateInput(),
                   "notes": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"ends_on": _("Leave empty for a one-day session."),
                      "location": _("Address or venue; leave empty for an online session.")}

    def __init__(self, *args, signatory: Signatory, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.course if self.instance.pk else None
        self.fields["course"].queryset = available_courses(signatory, current)

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            # the same rule as the service (and a database constraint), shown on the field
            self.add_error("ends_on", _("The end date is before the start date."))
        return cleaned


class RecordForm(forms.Form):
    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.none())
    completed_on = forms.DateField(label=_("Completed on"), widget=DateInput())
    staff_reference = forms.CharField(label=_("Staff reference"), max_length=100,
                                      required=False,
                                      help_text=_("Your internal reference for the person. "
                                                  "Give this or the name."))
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    department = forms.CharField(label=_("Department / role"), max_length=100, required=False)
    # a choice, not a checkbox: an unticked box cannot tell "no" from "not given", and
    # recording a completion must not quietly change what is known about an existing person
    is_customer_facing = forms.TypedChoiceField(
        label=_("Customer-facing"), required=False, empty_value=None,
        choices=[("", _("As recorded")), ("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        help_text=_("“As recorded” keeps what is known about a person already in the log "
                    "(someone new is recorded as not customer-facing)."))
    session = forms.ModelChoiceField(label=_("Session (optional)"), required=False,
                                     queryset=TrainingSession.objects.none())

    def __init__(self, *args, signatory: Signatory, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = available_courses(signatory)
        self.fields["session"].queryset = TrainingSession.objects.filter(
            signatory=signatory).select_related("course").order_by("-starts_on", "-id")
        self.fields["completed_on"].widget.attrs["max"] = timezone.localdate().isoformat()


class HeadcountForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=1998)
    employees = forms.IntegerField(label=_("Employees"), min_value=0)
    customer_facing_employees = forms.IntegerField(label=_("Customer-facing employees"),
                                                   min_value=0)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("Add a file (attendance sheet, slides…)"),
                           help_text=_("PDF, image or office document, up to 20 MB."),
                           allow_empty_file=True)


class RecordDeleteForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that this person's name, staff reference and e-mail will be "
                "erased for good. Their completions stay, anonymous, in the totals."))
