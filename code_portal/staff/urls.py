"""Web routes of the staff workspace, included by ``code_portal/urls.py``."""

from django.urls import include, path

urlpatterns = [
    path("", include("code_portal.staff.dashboard_urls")),
    path("", include("code_portal.staff.audit_urls")),
    path("", include("code_portal.staff.export_urls")),
]
