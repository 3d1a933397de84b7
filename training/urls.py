"""Training pages: a company's training log under /company/<pk>/training/, staff views under
/staff/training/."""

from __future__ import annotations

from django.urls import include, path

from training import views

company = [
    path("", views.training_home, name="training-home"),
    path("records/", views.record_list, name="training-records"),
    path("records/add/", views.record_add, name="training-record-add"),
    path("records/<int:record_pk>/delete/", views.record_delete, name="training-record-delete"),
    path("people/<int:person_pk>/", views.person_detail, name="training-person"),
    path("people/<int:person_pk>/erase/", views.person_erase, name="training-person-erase"),
    path("sessions/", views.session_list, name="training-sessions"),
    path("sessions/add/", views.session_form, name="training-session-add"),
    path("sessions/<int:session_pk>/", views.session_detail, name="training-session"),
    path("sessions/<int:session_pk>/edit/", views.session_form, name="training-session-edit"),
    path("sessions/<int:session_pk>/delete/", views.session_delete,
         name="training-session-delete"),
    path("sessions/<int:session_pk>/files/<int:attachment_pk>/", views.attachment_download,
         name="training-attachment"),
    path("sessions/<int:session_pk>/files/<int:attachment_pk>/delete/", views.attachment_delete,
         name="training-attachment-delete"),
    path("courses/", views.course_list, name="training-courses"),
    path("courses/add/", views.course_form, name="training-course-add"),
    path("courses/<int:course_pk>/edit/", views.course_form, name="training-course-edit"),
    path("courses/<int:course_pk>/delete/", views.course_delete, name="training-course-delete"),
]

urlpatterns = [
    path("company/<int:pk>/training/", include(company)),
    path("staff/training/", views.staff_coverage, name="staff-training"),
    path("staff/training/<int:pk>/", views.staff_training_detail, name="staff-training-detail"),
    # bulk import (upload, progress, row errors, template) and CSV/XLSX exports
    path("", include("training.import_urls")),
]
