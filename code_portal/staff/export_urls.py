"""Web routes (see code_portal/staff/urls.py)."""

from django.urls import path

from code_portal.staff import export_views

urlpatterns = [
    path("staff/exports/", export_views.export_list, name="staff-export-list"),
    path("staff/exports/new/", export_views.export_create, name="staff-export-create"),
    path("staff/exports/<int:pk>/", export_views.export_detail, name="staff-export-detail"),
    path("staff/exports/<int:pk>/progress/", export_views.export_progress,
         name="staff-export-progress"),
    path("staff/exports/<int:pk>/download/", export_views.export_download,
         name="staff-export-download"),
]
