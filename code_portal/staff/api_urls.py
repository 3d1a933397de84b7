"""API routes of the staff app, included by ``code_portal/urls.py`` under ``/api/v1/``."""

urlpatterns: list = []
