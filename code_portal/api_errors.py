"""API error shape: domain errors become 409 (state) or 400 (field) with a clear message."""

from django.core.exceptions import PermissionDenied
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from code_portal.errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        if exc.field:
            return Response({exc.field: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, PermissionDenied):
        return Response({"detail": str(exc) or "Permission denied."},
                        status=status.HTTP_403_FORBIDDEN)
    return drf_exception_handler(exc, context)
