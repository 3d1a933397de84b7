"""Serving private uploads (evidence, attachments, certificates) after the caller authorised."""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404


def private_file_response(field_file: FieldFile, *, filename: str,
                          content_type: str = "") -> FileResponse:
    """Always a download (never rendered inline), never cached by shared caches; a file missing
    from storage is a 404, not a 500."""
    if not field_file:
        raise Http404
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=filename,
                            content_type=content_type or "application/octet-stream")
    response["Cache-Control"] = "private, no-store"
    return response
