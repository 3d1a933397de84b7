"""API routes of the reminders app, included by ``code_portal/urls.py`` under ``/api/v1/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from code_portal.reminders import api

router = SimpleRouter()
router.register("notifications", api.NotificationViewSet, basename="api-notification")

urlpatterns = [
    # before the router: "preferences" is not a notification id
    path("notifications/preferences/", api.PreferenceView.as_view(),
         name="api-reminder-preferences"),
    *router.urls,
]
