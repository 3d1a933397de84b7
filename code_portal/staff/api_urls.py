"""API routes of the staff workspace, included by ``code_portal/urls.py`` under ``/api/v1/``."""

from django.urls import include, path

urlpatterns = [
    path("", include("code_portal.staff.dashboard_api_urls")),
    path("", include("code_portal.staff.audit_api_urls")),
]
