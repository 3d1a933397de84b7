from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from code_portal.models import AuditEvent
from signatories.models import (
    Invitation,
    Membership,
    MembershipRole,
    Signatory,
    SignatoryStatus,
)
from signatories.services import PROFILE_FIELDS


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False,
                                     max_length=256)

    def validate(self, attrs):
        user = authenticate(self.context.get("request"), username=attrs["email"].lower(),
                            password=attrs["password"])
        if user is None or not user.is_active:
            raise serializers.ValidationError(_("Unable to log in with these credentials."),
                                              code="authorization")
        attrs["user"] = user
        return attrs


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class SignatorySerializer(serializers.ModelSerializer):
    country = CountryField(country_dict=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    type_display = serializers.CharField(source="get_type_display", read_only=True)
    signed_code_version = serializers.CharField(source="signed_code_version.version",
                                                read_only=True, default=None)

    class Meta:
        model = Signatory
        fields = ["id", *PROFILE_FIELDS, "status", "status_display", "type_display",
                  "membership_number", "applied_at", "approved_at", "member_since", "signed_at",
                  "signer_name", "signer_title", "signed_code_version", "reporting_deadline",
                  "possible_duplicate", "created_at", "updated_at"]
        read_only_fields = ["status", "membership_number", "applied_at", "approved_at",
                            "member_since", "signed_at", "signer_name", "signer_title",
                            "possible_duplicate", "created_at", "updated_at"]


class SignatoryUpdateSerializer(serializers.ModelSerializer):
    country = CountryField()

    class Meta:
        model = Signatory
        fields = [*PROFILE_FIELDS, "reporting_deadline"]
        extra_kwargs = {f: {"required": False} for f in [*PROFILE_FIELDS, "reporting_deadline"]}


class ApplicationSerializer(serializers.ModelSerializer):
    country = CountryField()
    no_residential_care = serializers.BooleanField(
        write_only=True,
        help_text=_("Confirms that the company's products do not include visits to orphanages "
                    "or residential care institutions for children (required: true)."))
    applicant_email = serializers.EmailField(required=False)
    applicant_name = serializers.CharField(required=False, max_length=200)
    password = serializers.CharField(required=False, write_only=True, trim_whitespace=False,
                                     style={"input_type": "password"}, max_length=256)

    class Meta:
        model = Signatory
        fields = [*PROFILE_FIELDS, "no_residential_care", "applicant_email", "applicant_name",
                  "password"]

    def validate_no_residential_care(self, value):
        if value is not True:
            raise serializers.ValidationError(
                _("Companies whose trips include orphanages or residential care for children "
                  "cannot sign The Code."))
        return value

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and not request.user.is_authenticated:
            # Required at field level, so a missing login is reported together with the other
            # missing fields (validate() only runs once every field is valid).
            for name in ("applicant_email", "applicant_name", "password"):
                self.fields[name].required = True
                self.fields[name].error_messages["required"] = _(
                    "This field is required when you are not logged in.")

    def validate(self, attrs):
        request = self.context["request"]
        if not request.user.is_authenticated:
            errors = {}
            for field in ("applicant_email", "applicant_name", "password"):
                if not attrs.get(field):
                    errors[field] = [_("This field is required when you are not logged in.")]
            if not errors:
                try:
                    validate_password(attrs["password"])
                except DjangoValidationError as exc:
                    errors["password"] = list(exc.messages)
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class TransitionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    signer_name = serializers.CharField(required=False, max_length=200)
    signer_title = serializers.CharField(required=False, max_length=200)


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "full_name", "role", "created_at"]
        read_only_fields = ["id", "email", "full_name", "created_at"]


class InvitationSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=MembershipRole.choices)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "expires_at", "created_at"]
        read_only_fields = ["id", "expires_at", "created_at"]


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = AuditEvent
        fields = ["id", "occurred_at", "actor", "action", "object_repr", "from_state", "to_state",
                  "reason", "changes"]


class PublicSignatorySerializer(serializers.ModelSerializer):
    country = CountryField(country_dict=True)
    name = serializers.CharField(source="display_name")
    type_display = serializers.CharField(source="get_type_display")

    class Meta:
        model = Signatory
        fields = ["id", "name", "legal_name", "type", "type_display", "country", "member_since"]


__all__ = ["SignatoryStatus"]
