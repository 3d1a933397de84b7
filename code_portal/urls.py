from datetime import timedelta

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from health_check.views import HealthCheckView
from rest_framework_nested import routers

from signatories import api as signatories_api
from signatories import sampling_api

router = routers.DefaultRouter()
router.register("signatories", signatories_api.SignatoryViewSet, basename="signatory")
router.register("audit-samples", sampling_api.AuditSampleViewSet, basename="audit-sample")
router.register("audit-items", sampling_api.AuditItemViewSet, basename="audit-item")
signatory_router = routers.NestedDefaultRouter(router, "signatories", lookup="signatory")
signatory_router.register("members", signatories_api.MembershipViewSet,
                          basename="signatory-members")
signatory_router.register("invitations", signatories_api.InvitationViewSet,
                          basename="signatory-invitations")

api_v1 = [
    path("auth/token/", signatories_api.TokenView.as_view(), name="api-token-obtain"),
    path("public/signatories/", signatories_api.PublicSignatoryList.as_view(),
         name="api-public-signatories"),
    path("", include(router.urls)),
    path("", include(signatory_router.urls)),
    path("", include("training.api_urls")),
    path("", include("reporting.api_urls")),
    path("", include("code_portal.reminders.api_urls")),
    path("", include("signatories.partners.api_urls")),
    path("", include("code_portal.staff.api_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file: our CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Redoc styles itself with styled-components, which insert <style> elements, and runs its
    # search in a worker built from a blob: URL: both allowed on this page only (scripts 'self').
    path("api/redoc/", csp_update({"style-src": ["'unsafe-inline'"],
                                   "worker-src": ["'self'", "blob:"]})(
        SpectacularRedocView.as_view(url_name="schema")), name="api-redoc"),
    path("healthz/", HealthCheckView.as_view(checks=[
        "health_check.checks.Database",
        "health_check.checks.Cache",
        "health_check.checks.Storage",
    ]), name="healthz"),
    # Separate from /healthz/ (what the web container's health depends on): whether a Celery
    # worker answers through the broker and consumes the task queue. Monitoring polls it; a web
    # server without workers still serves pages.
    path("healthz/celery/", HealthCheckView.as_view(checks=[
        ("health_check.contrib.celery.Ping", {"timeout": timedelta(seconds=3), "limit": 1}),
    ]), name="healthz-celery"),
    path("", include("training.urls")),
    path("", include("reporting.urls")),
    path("", include("code_portal.reminders.urls")),
    path("", include("signatories.partners.urls")),
    path("", include("code_portal.staff.urls")),
    path("", include("signatories.urls")),
]
