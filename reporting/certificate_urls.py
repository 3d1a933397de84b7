from django.urls import path

from reporting import certificate_views as views

urlpatterns = [
    path("verify/", views.verify_lookup, name="certificate-verify-lookup"),
    path("verify/<str:code>/", views.verify, name="certificate-verify"),
    path("company/<int:pk>/certificates/", views.company_certificates,
         name="company-certificates"),
    path("certificates/<int:pk>/pdf/", views.certificate_pdf, name="certificate-pdf"),
    path("staff/certificates/", views.staff_certificates, name="staff-certificates"),
    path("staff/certificates/<int:pk>/", views.staff_certificate, name="staff-certificate"),
    path("staff/certificates/regenerate/", views.staff_regenerate,
         name="staff-certificates-regenerate"),
    path("staff/certificates/regenerations/<int:pk>/", views.staff_regeneration,
         name="staff-certificate-regeneration"),
]
