"""REST API for signatories: parse input, call one service or selector, serialize output."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from code_portal.errors import DomainError
from signatories import selectors, services
from signatories.filters import SignatoryFilter
from signatories.models import Signatory
from signatories.serializers import (
    ApplicationSerializer,
    AuditEventSerializer,
    InvitationSerializer,
    MembershipSerializer,
    PublicSignatorySerializer,
    SignatorySerializer,
    SignatoryUpdateSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    TransitionSerializer,
)


class TokenView(GenericAPIView):
    """Exchange e-mail and password for a personal API token (``Authorization: Token <key>``)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    serializer_class = TokenRequestSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(responses={200: TokenResponseSerializer})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


def _transition_action(name: str):
    def handler(self, request, pk=None):
        signatory = self.get_object()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if not request.user.has_perm(f"signatories.{name}", signatory):
            raise PermissionDenied
        service = services.TRANSITION_SERVICES[name]
        if name == "sign":
            signatory = service(signatory=signatory, actor=request.user,
                                signer_name=values.get("signer_name", ""),
                                signer_title=values.get("signer_title", ""))
        else:
            signatory = service(signatory=signatory, actor=request.user,
                                reason=values.get("reason", ""))
        return Response(SignatorySerializer(signatory).data)

    handler.__name__ = name
    # extend_schema must wrap the action, not the other way round: @action replaces the
    # function's ``kwargs``, where drf-spectacular keeps the override (the schema then showed
    # the whole Signatory as the request body).
    return extend_schema(request=TransitionSerializer, responses={200: SignatorySerializer},
                         summary=f"{name.replace('_', ' ').capitalize()} the signatory")(
        action(detail=True, methods=["post"], url_path=name.replace("_", "-"))(handler))


class SignatoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SignatorySerializer
    filterset_class = SignatoryFilter

    def get_queryset(self) -> QuerySet[Signatory]:
        if getattr(self, "swagger_fake_view", False):
            return Signatory.objects.none()
        return selectors.signatory_list_for(self.request.user).order_by("legal_name", "id")

    def get_throttles(self):
        if self.action == "apply":
            self.throttle_scope = "apply"
            return [ScopedRateThrottle()]
        return super().get_throttles()

    def get_permissions(self):
        if self.action == "apply":
            return [permissions.AllowAny()]
        return super().get_permissions()

    @extend_schema(request=SignatoryUpdateSerializer, responses={200: SignatorySerializer})
    def partial_update(self, request, pk=None):
        signatory = self.get_object()
        if not request.user.has_perm("signatories.edit_profile", signatory):
            raise PermissionDenied
        serializer = SignatoryUpdateSerializer(signatory, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        signatory = services.signatory_update_profile(
            signatory=signatory, actor=request.user, data=dict(serializer.validated_data))
        return Response(SignatorySerializer(signatory).data)

    @extend_schema(request=ApplicationSerializer,
                   responses={201: SignatorySerializer, 400: OpenApiResponse(description="invalid")})
    @action(detail=False, methods=["post"], serializer_class=ApplicationSerializer)
    def apply(self, request):
        serializer = ApplicationSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        values.pop("no_residential_care")
        user = request.user if request.user.is_authenticated else None
        signatory = services.signatory_apply(
            data=values, applicant=user,
            applicant_email=values.pop("applicant_email", ""),
            applicant_name=values.pop("applicant_name", ""),
            password=values.pop("password", None),
        )
        return Response(SignatorySerializer(signatory).data, status=status.HTTP_201_CREATED)

    approve = _transition_action("approve")
    reject = _transition_action("reject")
    sign = _transition_action("sign")
    flag_overdue = _transition_action("flag_overdue")
    suspend = _transition_action("suspend")
    reinstate = _transition_action("reinstate")
    withdraw = _transition_action("withdraw")
    expel = _transition_action("expel")

    @extend_schema(responses={200: AuditEventSerializer(many=True)})
    @action(detail=True, methods=["get"], serializer_class=AuditEventSerializer)
    def history(self, request, pk=None):
        events = selectors.audit_events_for(request.user, self.get_object())
        page = self.paginate_queryset(events)
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The company's team. PATCH changes a role; DELETE removes a member (or leaves)."""

    serializer_class = MembershipSerializer

    def _signatory(self):
        return selectors.signatory_get_for(self.request.user, self.kwargs["signatory_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            from signatories.models import Membership

            return Membership.objects.none()
        return selectors.membership_list_for(self.request.user, self._signatory())

    @extend_schema(request=MembershipSerializer, responses={200: MembershipSerializer})
    def partial_update(self, request, signatory_pk=None, pk=None):
        membership = self.get_object()
        serializer = MembershipSerializer(membership, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        role = serializer.validated_data.get("role")
        if role is None:
            raise DomainError("Give the new role.", field="role")
        membership = services.membership_change_role(membership=membership, actor=request.user,
                                                     role=role)
        return Response(MembershipSerializer(membership).data)

    def destroy(self, request, signatory_pk=None, pk=None):
        services.membership_remove(membership=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
                        viewsets.GenericViewSet):
    serializer_class = InvitationSerializer

    def _managed_signatory(self):
        # Outsiders get 404 (the company does not exist for them); members who may not manage
        # the team get 403 on listing, inviting and withdrawing alike.
        signatory = selectors.signatory_get_for(self.request.user, self.kwargs["signatory_pk"])
        if not self.request.user.has_perm("signatories.manage_members", signatory):
            raise PermissionDenied
        return signatory

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            from signatories.models import Invitation

            return Invitation.objects.none()
        return selectors.invitation_list_for(self.request.user, self._managed_signatory())

    def create(self, request, signatory_pk=None):
        signatory = self._managed_signatory()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation, _token = services.invitation_create(
            signatory=signatory, actor=request.user, **serializer.validated_data)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, signatory_pk=None, pk=None):
        services.invitation_revoke(invitation=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PublicSignatoryList(ListAPIView):
    """Members in good standing, for the public (no login)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    serializer_class = PublicSignatorySerializer
    filter_backends: list = []

    @extend_schema(parameters=[OpenApiParameter(
        "search", str, description="Part of the legal or trading name (case-insensitive).")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.public_signatory_list(self.request.query_params.get("search", "")[:100])
