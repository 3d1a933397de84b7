"""Training API routes, included by ``code_portal/urls.py`` under ``/api/v1/``."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from training import api, import_api

router = SimpleRouter()
router.register("training/courses", api.CourseViewSet, basename="training-course")
router.register("training/sessions", api.SessionViewSet, basename="training-session")
router.register("training/records", api.RecordViewSet, basename="training-record")
router.register("training/people", api.PersonViewSet, basename="training-person")
router.register("training/headcounts", api.HeadcountViewSet, basename="training-headcount")
router.register("training/coverage", api.CoverageViewSet, basename="training-coverage")

# imports (upload, status, row errors) and exports
import_api.register(router)

urlpatterns = router.urls
