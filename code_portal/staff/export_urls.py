"""Web routes (see code_portal/staff/urls.py)."""

urlpatterns: list = []
