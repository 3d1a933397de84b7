"""API routes (see code_portal/staff/api_urls.py)."""

from rest_framework.routers import SimpleRouter

from code_portal.staff.audit_api import AuditEventViewSet
from code_portal.staff.export_api import ExportJobViewSet

router = SimpleRouter()
router.register("audit-events", AuditEventViewSet, basename="api-audit-event")
# exports of staff lists (the audit trail's among them)
router.register("exports", ExportJobViewSet, basename="api-export")

urlpatterns = router.urls
