"""Web routes (see code_portal/staff/urls.py)."""

from django.urls import path

from code_portal.staff import audit_views

urlpatterns = [
    path("staff/audit/", audit_views.audit_list, name="staff-audit-list"),
    path("staff/audit/<int:pk>/", audit_views.audit_detail, name="staff-audit-detail"),
]
