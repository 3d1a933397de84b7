"""Serializers for the training API: input parsing and output shapes (no writes here)."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from training import selectors
from training.coverage import share
from training.models import (
    Course,
    Headcount,
    SessionAttachment,
    Trainee,
    TrainingRecord,
    TrainingSession,
)
from training.services import COURSE_FIELDS, SESSION_FIELDS


def _user(serializer: serializers.Serializer):
    request = serializer.context.get("request")
    return request.user if request is not None else None


# --- Courses ---------------------------------------------------------------------------------

class CourseSerializer(serializers.ModelSerializer):
    is_catalogue = serializers.BooleanField(read_only=True)
    delivery_mode_display = serializers.CharField(source="get_delivery_mode_display",
                                                  read_only=True)

    class Meta:
        model = Course
        fields = ["id", "signatory", "is_catalogue", *COURSE_FIELDS, "delivery_mode_display",
                  "created_at", "updated_at"]
        read_only_fields = fields


# the database's check constraints, as input validation (a 400 on the field, never a 500)
COURSE_LIMITS = {"duration_hours": {"min_value": Decimal("0.1")},
                 "validity_months": {"min_value": 1}}


class CourseWriteSerializer(serializers.ModelSerializer):
    """Create: ``signatory`` = the company's own course; empty = a catalogue course (staff)."""

    signatory = serializers.IntegerField(required=False, allow_null=True, write_only=True,
                                         help_text=_("Empty for a catalogue course."))

    class Meta:
        model = Course
        fields = ["signatory", *COURSE_FIELDS]
        extra_kwargs = COURSE_LIMITS


class CourseUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = COURSE_FIELDS
        extra_kwargs = COURSE_LIMITS


# --- Sessions ----------------------------------------------------------------------------------

class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = SessionAttachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "download_url",
                  "created_at"]

    def get_download_url(self, obj: SessionAttachment) -> str:
        return reverse("training-session-attachment",
                       kwargs={"pk": obj.session_id, "attachment_pk": obj.pk})


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)


class SessionSerializer(serializers.ModelSerializer):
    course_title = serializers.CharField(source="course.title", read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TrainingSession
        fields = ["id", "signatory", *SESSION_FIELDS, "course_title", "attachments",
                  "created_at", "updated_at"]
        read_only_fields = fields


class SessionWriteSerializer(serializers.ModelSerializer):
    signatory = serializers.IntegerField(write_only=True)

    class Meta:
        model = TrainingSession
        fields = ["signatory", *SESSION_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        if user is not None:
            # Only courses the user may see: another company's course looks like a missing one.
            self.fields["course"].queryset = selectors.course_list_for(user)
        if self.instance is not None:
            del self.fields["signatory"]


# --- People and records ------------------------------------------------------------------------

class TraineeSerializer(serializers.ModelSerializer):
    is_erased = serializers.SerializerMethodField()
    record_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Trainee
        fields = ["id", "signatory", "staff_reference", "name", "email", "department",
                  "is_customer_facing", "is_erased", "erased_at", "record_count"]
        read_only_fields = fields

    def get_is_erased(self, obj: Trainee) -> bool:
        return obj.erased_at is not None


class PersonSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Trainee
        fields = ["id", "staff_reference", "name", "department", "is_customer_facing",
                  "erased_at"]
        read_only_fields = fields


class RecordSerializer(serializers.ModelSerializer):
    person = PersonSummarySerializer(source="trainee", read_only=True)
    course_title = serializers.CharField(source="course.title", read_only=True)
    is_valid_today = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRecord
        fields = ["id", "signatory", "person", "course", "course_title", "session",
                  "completed_on", "expires_on", "is_valid_today", "import_job", "created_at"]
        read_only_fields = fields

    def get_is_valid_today(self, obj: TrainingRecord) -> bool:
        today = timezone.localdate()
        return obj.completed_on <= today and (obj.expires_on is None or obj.expires_on > today)


class RecordCreateSerializer(serializers.Serializer):
    signatory = serializers.IntegerField()
    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.none())
    completed_on = serializers.DateField()
    staff_reference = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                            default="")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    department = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                       default="")
    # left out (or null): an existing person keeps their flag, someone new is not customer-facing
    is_customer_facing = serializers.BooleanField(required=False, allow_null=True, default=None)
    session = serializers.PrimaryKeyRelatedField(queryset=TrainingSession.objects.none(),
                                                 required=False, allow_null=True, default=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        if user is not None:
            self.fields["course"].queryset = selectors.course_list_for(user)
            self.fields["session"].queryset = selectors.session_list_for(user)


class RecordDeleteSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


# --- Headcount and coverage --------------------------------------------------------------------

class HeadcountSerializer(serializers.ModelSerializer):
    signatory = serializers.IntegerField(source="signatory_id")
    employees = serializers.IntegerField(min_value=0)
    customer_facing_employees = serializers.IntegerField(min_value=0)

    class Meta:
        model = Headcount
        fields = ["id", "signatory", "year", "employees", "customer_facing_employees",
                  "updated_at"]
        read_only_fields = ["id", "updated_at"]
        # one per signatory and year: a second POST replaces the figures (the service upserts)
        validators: list = []


class DepartmentCoverageSerializer(serializers.Serializer):
    department = serializers.CharField()
    people = serializers.IntegerField()
    trained = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)
    customer_facing = serializers.IntegerField()
    customer_facing_trained = serializers.IntegerField()
    customer_facing_share = serializers.FloatField(
        allow_null=True, help_text=_("Percent of the department's customer-facing people on "
                                     "record with valid training; empty when it has none."))


class CoverageSerializer(serializers.Serializer):
    signatory = serializers.IntegerField(source="signatory_id")
    year = serializers.IntegerField()
    as_of = serializers.DateField()
    employees = serializers.IntegerField(allow_null=True)
    customer_facing_employees = serializers.IntegerField(allow_null=True)
    people_on_record = serializers.IntegerField()
    trained = serializers.IntegerField()
    customer_facing_trained = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True,
                                   help_text=_("Percent of employees with valid training; "
                                               "empty without a headcount for the year."))
    customer_facing_share = serializers.FloatField(allow_null=True)
    refreshers_due = serializers.IntegerField(
        help_text=_("Valid records expiring within 90 days and not yet renewed."))
    departments = DepartmentCoverageSerializer(many=True)


class CoverageRowSerializer(serializers.Serializer):
    """One signatory of the coverage list (figures from ``annotate_coverage``)."""

    signatory = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="display_name")
    country = CountryField(country_dict=True)
    type = serializers.CharField()
    employees = serializers.IntegerField(source="cov_employees", allow_null=True)
    customer_facing_employees = serializers.IntegerField(source="cov_cf_employees",
                                                         allow_null=True)
    trained = serializers.IntegerField(source="cov_trained")
    customer_facing_trained = serializers.IntegerField(source="cov_cf_trained")
    share = serializers.SerializerMethodField()
    customer_facing_share = serializers.SerializerMethodField()

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_share(self, obj) -> float | None:
        return share(obj.cov_trained, obj.cov_employees)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_customer_facing_share(self, obj) -> float | None:
        return share(obj.cov_cf_trained, obj.cov_cf_employees)
