"""Web routes (see code_portal/staff/urls.py)."""

from django.urls import path

from code_portal.staff import dashboard_views as views

urlpatterns = [
    path("staff/dashboard/", views.dashboard, name="staff-dashboard"),
    path("staff/dashboard/summary/<int:year>.pdf", views.annual_summary,
         name="staff-annual-summary"),
]
