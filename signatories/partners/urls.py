"""Web routes of the partners app, included by ``code_portal/urls.py``."""

urlpatterns: list = []
