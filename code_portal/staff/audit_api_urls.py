"""API routes (see code_portal/staff/api_urls.py)."""

from rest_framework.routers import SimpleRouter

from code_portal.staff.audit_api import AuditEventViewSet

router = SimpleRouter()
router.register("audit-events", AuditEventViewSet, basename="api-audit-event")

urlpatterns = router.urls
