"""Pages for bulk import and training downloads; included by ``training/urls.py``."""

from __future__ import annotations

from django.urls import path, re_path

from training import import_views

FMT = r"(?P<fmt>csv|xlsx)"

urlpatterns = [
    path("company/<int:pk>/training/import/", import_views.import_upload,
         name="training-imports"),
    re_path(rf"^company/(?P<pk>\d+)/training/import/template\.{FMT}$",
            import_views.import_template, name="training-import-template"),
    path("company/<int:pk>/training/import/<int:job_pk>/", import_views.import_detail,
         name="training-import-detail"),
    path("company/<int:pk>/training/import/<int:job_pk>/import-valid-rows/",
         import_views.import_accept_valid_rows, name="training-import-valid-rows"),
    path("company/<int:pk>/training/import/<int:job_pk>/progress/",
         import_views.import_progress, name="training-import-progress"),
    path("company/<int:pk>/training/import/<int:job_pk>/errors.csv",
         import_views.import_errors_csv, name="training-import-errors"),
    re_path(rf"^company/(?P<pk>\d+)/training/export/(?P<what>records|coverage)\.{FMT}$",
            import_views.company_export, name="training-export"),
    re_path(rf"^staff/training/export/coverage\.{FMT}$", import_views.staff_coverage_export,
            name="staff-training-export"),
]
