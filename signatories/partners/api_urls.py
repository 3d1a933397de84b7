"""API routes of the partners app, included by ``code_portal/urls.py`` under ``/api/v1/``."""

urlpatterns: list = []
