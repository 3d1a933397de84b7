"""API routes of the reminders app, included by ``code_portal/urls.py`` under ``/api/v1/``."""

urlpatterns: list = []
