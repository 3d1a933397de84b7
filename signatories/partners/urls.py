"""Web routes of the partners app, included by ``code_portal/urls.py``."""

from django.urls import path, re_path

from signatories.partners import views

company = "company/<int:pk>/partners/"

urlpatterns = [
    path(company, views.partner_list, name="partner-list"),
    path(f"{company}new/", views.partner_create, name="partner-create"),
    re_path(r"^company/(?P<pk>\d+)/partners/export\.(?P<fmt>csv|xlsx)$", views.partner_export,
            name="partner-export"),
    path(f"{company}import/", views.import_upload, name="partner-import"),
    re_path(r"^company/(?P<pk>\d+)/partners/import/template\.(?P<fmt>csv|xlsx)$",
            views.import_template, name="partner-import-template"),
    path(f"{company}import/<int:job_pk>/", views.import_detail, name="partner-import-detail"),
    path(f"{company}import/<int:job_pk>/progress/", views.import_progress,
         name="partner-import-progress"),
    path(f"{company}<int:partner_pk>/", views.partner_detail, name="partner-detail"),
    path(f"{company}<int:partner_pk>/edit/", views.partner_edit, name="partner-edit"),
    path(f"{company}<int:partner_pk>/delete/", views.partner_delete, name="partner-delete"),
    path(f"{company}<int:partner_pk>/send/", views.partner_send, name="partner-send"),
    path(f"{company}<int:partner_pk>/link/", views.partner_link, name="partner-link"),
    path(f"{company}<int:partner_pk>/requests/<int:request_pk>/cancel/", views.request_cancel,
         name="partner-request-cancel"),
    # a hotel that is itself a signatory: the requests addressed to it
    path("company/<int:pk>/partner-requests/", views.addressed_list,
         name="partner-addressed-list"),
    path("company/<int:pk>/partner-requests/<int:request_pk>/", views.addressed_answer,
         name="partner-addressed-answer"),
    # public, no login: the e-mailed link
    path("partners/confirm/<str:token>/", views.public_confirm, name="partner-confirm"),
    path("partners/confirm/<str:token>/new-link/", views.public_new_link,
         name="partner-confirm-new-link"),
    # Code staff
    path("staff/partners/", views.staff_rates, name="staff-partner-rates"),
    path("staff/partners/signatory/<int:pk>/", views.staff_signatory_requests,
         name="staff-partner-requests"),
    path("staff/partners/requests/<int:request_pk>/", views.staff_confirmation,
         name="staff-partner-confirmation"),
]
