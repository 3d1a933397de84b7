"""Web routes of the staff app, included by ``code_portal/urls.py``."""

urlpatterns: list = []
