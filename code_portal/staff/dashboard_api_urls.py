"""API routes (see code_portal/staff/api_urls.py)."""

from django.urls import path

from code_portal.staff.dashboard_api import DashboardView

urlpatterns = [
    path("staff/dashboard/", DashboardView.as_view(), name="api-staff-dashboard"),
]
