from django.urls import include, path

from reporting import views

urlpatterns = [
    path("company/<int:pk>/reports/", views.company_reports, name="company-reports"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/autosave/", views.report_autosave, name="report-autosave"),
    path("reports/<int:pk>/evidence/<int:evidence_pk>/", views.evidence_download,
         name="evidence-download"),
    path("reports/<int:pk>/evidence/<int:evidence_pk>/delete/", views.evidence_remove,
         name="evidence-delete"),
    path("staff/reports/", views.staff_report_queue, name="staff-report-queue"),
    path("staff/reports/<int:pk>/", views.staff_report_review, name="staff-report-review"),
    path("staff/reports/<int:pk>/assign/", views.staff_report_assign, name="staff-report-assign"),
    path("staff/reports/<int:pk>/due-date/", views.staff_report_due_date,
         name="staff-report-due-date"),
    path("", include("reporting.certificate_urls")),
]
