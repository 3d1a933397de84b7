"""API routes (see code_portal/staff/api_urls.py)."""

urlpatterns: list = []
