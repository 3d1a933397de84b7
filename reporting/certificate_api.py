"""Certificate API: the company's (and staff's) certificates with PDF download, and the public,
rate-limited verification endpoint."""

from __future__ import annotations

from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from code_portal.private_files import private_file_response
from reporting import certificates as svc
from reporting.certificate_views import VerifyThrottle, public_view
from reporting.models import Certificate, CertificateState


class CertificateSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    replaces = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = Certificate
        fields = ["id", "signatory", "year", "number", "code", "company_name", "country",
                  "valid_from", "valid_until", "issued_at", "status", "revoked_at",
                  "revocation_reason", "replaces", "pdf_url"]

    def get_status(self, obj: Certificate) -> str:
        from django.utils import timezone

        return obj.state_on(timezone.localdate())

    def get_pdf_url(self, obj: Certificate) -> str:
        from django.urls import reverse

        return self.context["request"].build_absolute_uri(
            reverse("api-certificate-pdf", args=[obj.pk]))


class CertificateReasonSerializer(serializers.Serializer):
    """Revoking or re-issuing a certificate needs a reason."""

    reason = serializers.CharField(max_length=2000)


class PublicCertificateSerializer(serializers.Serializer):
    number = serializers.CharField()
    company = serializers.CharField()
    country = serializers.CharField()
    year = serializers.IntegerField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    status = serializers.ChoiceField(choices=CertificateState.choices)
    revoked_on = serializers.DateField(allow_null=True)


class CertificateViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CertificateSerializer
    filterset_fields = ["year", "signatory"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return svc.certificate_list_for(self.request.user).order_by("-year", "-sequence")

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="pdf", url_name="pdf")
    def pdf(self, request, pk=None):
        certificate = svc.certificate_get_for(request.user, pk)
        return private_file_response(certificate.pdf, filename=f"{certificate.number}.pdf",
                                     content_type="application/pdf")

    def _reason(self, request) -> str:
        serializer = CertificateReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["reason"]

    @extend_schema(request=CertificateReasonSerializer, responses={200: CertificateSerializer})
    @action(detail=True, methods=["post"], url_path="revoke", url_name="revoke")
    def revoke(self, request, pk=None):
        """Staff: revoke with a reason (the verification page then says revoked)."""
        certificate = svc.certificate_get_for(request.user, pk)
        certificate = svc.certificate_revoke(certificate=certificate, actor=request.user,
                                             reason=self._reason(request))
        return Response(self.get_serializer(certificate).data)

    @extend_schema(request=CertificateReasonSerializer, responses={201: CertificateSerializer})
    @action(detail=True, methods=["post"], url_path="reissue", url_name="reissue")
    def reissue(self, request, pk=None):
        """Staff: a new certificate (new number and code) in place of this one, which is revoked."""
        certificate = svc.certificate_get_for(request.user, pk)
        new = svc.certificate_reissue(certificate=certificate, actor=request.user,
                                      reason=self._reason(request))
        return Response(self.get_serializer(new).data, status=201)


class CertificateVerifyView(APIView):
    """Public: anyone may check a code. Rate-limited per client address."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [VerifyThrottle]

    @extend_schema(responses={200: PublicCertificateSerializer})
    def get(self, request, code: str):
        certificate = svc.certificate_verify(code)
        if certificate is None:
            raise Http404("No certificate has this verification code.")
        return Response(PublicCertificateSerializer(public_view(certificate)).data)


def register(router) -> None:
    router.register("certificates", CertificateViewSet, basename="api-certificate")


urlpatterns = [
    path("certificates/verify/<str:code>/", CertificateVerifyView.as_view(),
         name="api-certificate-verify"),
]
