"""Web routes of the reminders app, included by ``code_portal/urls.py``."""

urlpatterns: list = []
