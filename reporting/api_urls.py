"""Annual-report API routes, included by ``code_portal/urls.py`` under ``/api/v1/``."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from reporting import api, certificate_api

router = SimpleRouter()
# basename "api-report": the HTML pages already own the "report-detail" name.
router.register("reports", api.ReportViewSet, basename="api-report")
certificate_api.register(router)

urlpatterns = [
    *certificate_api.urlpatterns,  # before the router: "verify" is not a certificate id
    *router.urls,
    path("questionnaires/<int:year>/", api.QuestionnaireView.as_view(),
         name="api-questionnaire"),
]
