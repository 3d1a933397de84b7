"""The dashboard's figures as JSON (``GET /api/v1/staff/dashboard/``), scoped like the page."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from code_portal.staff.dashboard import cached_dashboard_for, parse_filters


class DashboardView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="Year (default: this year)"),
            OpenApiParameter("country", OpenApiTypes.STR, description="ISO country code"),
            OpenApiParameter("type", OpenApiTypes.STR, description="Signatory type"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        """Code staff's overview figures (local representatives: their countries only). Each
        figure carries the URL of the staff list behind it, or null when no list shows it."""
        if not request.user.has_perm("staff.view_dashboard"):
            raise Http404
        today = timezone.localdate()
        filters = parse_filters(request.query_params, today=today)
        return Response(cached_dashboard_for(request.user, filters, today=today).as_dict())
