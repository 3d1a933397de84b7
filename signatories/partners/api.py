"""Partner API: CRUD with filters, import, confirmation requests (one and bulk), requests
addressed to a hotel signatory, and the public token endpoints (rate-limited)."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from signatories.models import Signatory
from signatories.partners import selectors, services
from signatories.partners.filters import PartnerFilter
from signatories.partners.models import (
    ConfirmationRequest,
    Partner,
    PartnerImportJob,
    PartnerState,
    RequestStatus,
)
from signatories.partners.views import ConfirmThrottle, client_ip


class PartnerSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=PartnerState.choices, read_only=True)
    confirmed_until = serializers.DateField(read_only=True, allow_null=True)
    signatory = serializers.PrimaryKeyRelatedField(queryset=Signatory.objects.all())

    class Meta:
        model = Partner
        fields = ["id", "signatory", "kind", "name", "country", "city", "contact_email", "website",
                  "language", "contract_reference", "contract_start", "contract_end",
                  "carries_clause", "linked_signatory", "state", "confirmed_until"]
        read_only_fields = ["linked_signatory"]


class PartnerUpdateSerializer(PartnerSerializer):
    class Meta(PartnerSerializer.Meta):
        read_only_fields = ["signatory", "linked_signatory"]


class ConfirmationRequestSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    guidelines_version = serializers.SlugRelatedField(slug_field="version", read_only=True)

    class Meta:
        model = ConfirmationRequest
        fields = ["id", "partner", "signatory", "email", "language", "status", "sent_at",
                  "expires_at", "responded_at", "responder_name", "responder_position",
                  "responder_date", "decline_reason", "confirmed_on", "valid_until",
                  "guidelines_version"]

    def get_status(self, obj: ConfirmationRequest) -> str:
        return obj.effective_status


class PartnerBulkSendSerializer(serializers.Serializer):
    signatory = serializers.IntegerField()
    partners = serializers.ListField(child=serializers.IntegerField(), required=False,
                                     help_text="Partner ids; leave out for every partner.")


class PartnerBulkResultSerializer(serializers.Serializer):
    sent = serializers.ListField(child=serializers.IntegerField())
    already_pending = serializers.IntegerField()
    without_email = serializers.IntegerField()


class PartnerLinkSerializer(serializers.Serializer):
    linked_signatory = serializers.IntegerField(allow_null=True)


class PartnerImportSerializer(serializers.Serializer):
    signatory = serializers.IntegerField()
    file = serializers.FileField()
    import_valid_rows = serializers.BooleanField(default=False)


class PartnerImportJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerImportJob
        fields = ["id", "signatory", "original_name", "status", "import_valid_rows", "total_rows",
                  "processed_rows", "created_partners", "errors", "created_at", "finished_at"]


class PartnerConfirmSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    position = serializers.CharField(max_length=200)
    date = serializers.DateField(required=False)


class PartnerDeclineSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    position = serializers.CharField(max_length=200)
    reason = serializers.CharField(max_length=2000)


class PartnerSuggestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signatory
        fields = ["id", "legal_name", "trading_name", "country", "website"]


def _operator(request, pk) -> Signatory:
    return selectors.partner_signatory_for(request.user, pk)


class PartnerViewSet(viewsets.ModelViewSet):
    """The partners of the signatories the user may see. Writes go through services."""

    serializer_class = PartnerSerializer
    filterset_class = PartnerFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.partner_list_for(self.request.user)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return PartnerUpdateSerializer
        return super().get_serializer_class()

    def get_object(self):
        partner = selectors.partner_get_for(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, partner)
        return partner

    def perform_create(self, serializer):
        signatory = _operator(self.request, serializer.validated_data.pop("signatory").pk)
        partner = services.partner_create(actor=self.request.user, signatory=signatory,
                                          data=serializer.validated_data)
        serializer.instance = selectors.partner_get_for(self.request.user, partner.pk)

    def perform_update(self, serializer):
        partner = services.partner_update(actor=self.request.user, partner=serializer.instance,
                                          data=serializer.validated_data)
        serializer.instance = selectors.partner_get_for(self.request.user, partner.pk)

    def perform_destroy(self, instance):
        services.partner_delete(actor=self.request.user, partner=instance)

    @extend_schema(request=None, responses={200: ConfirmationRequestSerializer(many=True),
                                            201: ConfirmationRequestSerializer})
    @action(detail=True, methods=["get", "post"], url_path="confirmation-requests",
            url_name="confirmation-requests")
    def confirmation_requests(self, request, pk=None):
        """GET: the partner's requests, newest first. POST: send one (or get the pending one)."""
        partner = self.get_object()
        if request.method == "POST":
            req = services.confirmation_request_send(actor=request.user, partner=partner)
            return Response(ConfirmationRequestSerializer(req).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(selectors.request_list_for(request.user, partner))
        return self.get_paginated_response(ConfirmationRequestSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: ConfirmationRequestSerializer})
    @action(detail=True, methods=["post"],
            url_path=r"confirmation-requests/(?P<request_pk>\d+)/cancel", url_name="cancel")
    def cancel(self, request, pk=None, request_pk=None):
        partner = self.get_object()
        try:
            req = selectors.request_list_for(request.user, partner).get(pk=request_pk)
        except ConfirmationRequest.DoesNotExist as exc:
            raise Http404 from exc
        req = services.confirmation_request_cancel(actor=request.user, request=req)
        return Response(ConfirmationRequestSerializer(req).data)

    @extend_schema(responses={200: PartnerSuggestionSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="link-suggestions", url_name="link-suggestions")
    def link_suggestions(self, request, pk=None):
        partner = self.get_object()
        if not request.user.has_perm("partners.manage_partners", partner.signatory):
            raise PermissionDenied
        return Response(PartnerSuggestionSerializer(selectors.link_suggestions(partner), many=True).data)

    @extend_schema(request=PartnerLinkSerializer, responses={200: PartnerSerializer})
    @action(detail=True, methods=["post"], url_path="link", url_name="link")
    def link(self, request, pk=None):
        """Link the partner to a signatory (any that the suggestions offer), or null to unlink."""
        partner = self.get_object()
        serializer = PartnerLinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = serializer.validated_data["linked_signatory"]
        linked = None
        if target is not None:
            linked = {s.pk: s for s in selectors.link_suggestions(partner)}.get(target)
            if linked is None:
                raise serializers.ValidationError(
                    {"linked_signatory": ["Not a suggested signatory for this partner."]})
        services.partner_link(actor=request.user, partner=partner, linked=linked)
        return Response(PartnerSerializer(selectors.partner_get_for(request.user, partner.pk)).data)

    @extend_schema(request=PartnerBulkSendSerializer, responses={200: PartnerBulkResultSerializer})
    @action(detail=False, methods=["post"], url_path="request-confirmations",
            url_name="request-confirmations")
    def request_confirmations(self, request):
        """Bulk: send requests to the listed partners of a signatory (or all of them)."""
        serializer = PartnerBulkSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signatory = _operator(request, serializer.validated_data["signatory"])
        result = services.confirmation_requests_send(
            actor=request.user, signatory=signatory,
            partner_ids=serializer.validated_data.get("partners"))
        return Response(PartnerBulkResultSerializer(result).data)

    @extend_schema(request={"multipart/form-data": PartnerImportSerializer},
                   responses={202: PartnerImportJobSerializer})
    @action(detail=False, methods=["post"], url_path="import", url_name="import",
            parser_classes=[MultiPartParser, FormParser])
    def import_file(self, request):
        serializer = PartnerImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signatory = _operator(request, serializer.validated_data["signatory"])
        job = services.partner_import_create(
            actor=request.user, signatory=signatory, upload=serializer.validated_data["file"],
            import_valid_rows=serializer.validated_data["import_valid_rows"])
        return Response(PartnerImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: PartnerImportJobSerializer})
    @action(detail=False, methods=["get"], url_path=r"imports/(?P<job_pk>\d+)",
            url_name="import-detail")
    def import_detail(self, request, job_pk=None):
        job = PartnerImportJob.objects.filter(pk=job_pk).only("signatory_id").first()
        if job is None:
            raise Http404
        signatory = _operator(request, job.signatory_id)
        return Response(PartnerImportJobSerializer(selectors.import_get_for(request.user, signatory,
                                                                     job_pk)).data)


class AddressedRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                              viewsets.GenericViewSet):
    """Requests addressed to a hotel signatory (``?signatory=`` one of the user's companies);
    its admins and reporters confirm or decline from their account."""

    serializer_class = ConfirmationRequestSerializer
    lookup_value_regex = r"\d+"
    filterset_class = None

    def _hotel(self) -> Signatory:
        pk = self.request.query_params.get("signatory") or self.request.data.get("signatory")
        return selectors.addressed_signatory_for(self.request.user, pk)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ConfirmationRequest.objects.none()
        return selectors.addressed_requests_for(self.request.user, self._hotel())

    def _answer(self, request, pk, decline: bool):
        hotel = self._hotel()
        req = selectors.addressed_request_get_for(request.user, hotel, pk)
        data = (PartnerDeclineSerializer if decline else PartnerConfirmSerializer)(data=request.data)
        data.is_valid(raise_exception=True)
        common = {"request_id": req.pk, "name": data.validated_data["name"],
                  "position": data.validated_data["position"], "ip": client_ip(request),
                  "user_agent": request.META.get("HTTP_USER_AGENT", ""), "actor": request.user}
        if decline:
            req = services.confirmation_decline(reason=data.validated_data["reason"], **common)
        else:
            req = services.confirmation_confirm(when=data.validated_data.get("date"), **common)
        return Response(ConfirmationRequestSerializer(req).data)

    @extend_schema(request=PartnerConfirmSerializer, responses={200: ConfirmationRequestSerializer})
    @action(detail=True, methods=["post"], url_path="confirm", url_name="confirm")
    def confirm(self, request, pk=None):
        return self._answer(request, pk, decline=False)

    @extend_schema(request=PartnerDeclineSerializer, responses={200: ConfirmationRequestSerializer})
    @action(detail=True, methods=["post"], url_path="decline", url_name="decline")
    def decline(self, request, pk=None):
        return self._answer(request, pk, decline=True)


class PartnerPublicRequestSerializer(serializers.Serializer):
    status = serializers.CharField()
    operator = serializers.CharField()
    partner = serializers.CharField()
    expires_at = serializers.DateTimeField()
    guidelines_version = serializers.CharField(allow_null=True)
    guidelines_title = serializers.CharField(allow_null=True)
    guidelines_text = serializers.CharField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)


def _public(req: ConfirmationRequest) -> dict:
    guidelines = (req.guidelines_version if req.status in (RequestStatus.CONFIRMED,
                                                           RequestStatus.DECLINED) else None)
    guidelines = guidelines or selectors.current_guidelines()
    text = guidelines.text_in(req.language) if guidelines else None
    return {"status": req.effective_status, "operator": req.signatory.display_name,
            "partner": req.partner.name, "expires_at": req.expires_at,
            "guidelines_version": guidelines.version if guidelines else None,
            "guidelines_title": text.title if text else None,
            "guidelines_text": text.text if text else None, "valid_until": req.valid_until}


class PublicConfirmationView(APIView):
    """Public (no login): the request behind an e-mailed token. Rate-limited per address, one
    budget with the confirmation page."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ConfirmThrottle]

    def _request(self, token: str) -> ConfirmationRequest:
        req = selectors.request_by_token(token)
        if req is None:
            raise Http404("This link is not valid.")
        return req

    @extend_schema(responses={200: PartnerPublicRequestSerializer})
    def get(self, request, token: str):
        return Response(PartnerPublicRequestSerializer(_public(self._request(token))).data)


class PublicConfirmView(PublicConfirmationView):
    @extend_schema(request=PartnerConfirmSerializer, responses={200: PartnerPublicRequestSerializer})
    def post(self, request, token: str):
        req = self._request(token)
        data = PartnerConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        req = services.confirmation_confirm(
            request_id=req.pk, name=data.validated_data["name"],
            position=data.validated_data["position"], when=data.validated_data.get("date"),
            ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""))
        return Response(PartnerPublicRequestSerializer(_public(req)).data)


class PublicDeclineView(PublicConfirmationView):
    @extend_schema(request=PartnerDeclineSerializer, responses={200: PartnerPublicRequestSerializer})
    def post(self, request, token: str):
        req = self._request(token)
        data = PartnerDeclineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        req = services.confirmation_decline(
            request_id=req.pk, name=data.validated_data["name"],
            position=data.validated_data["position"], reason=data.validated_data["reason"],
            ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""))
        return Response(PartnerPublicRequestSerializer(_public(req)).data)


class RatesView(APIView):
    """Code staff: confirmation rates per country of the signatories they may see (today)."""

    @extend_schema(responses={200: serializers.ListSerializer(child=serializers.DictField())})
    def get(self, request):
        return Response(selectors.rates_by_country(request.user, timezone.localdate()))

