"""Checking uploaded files at the boundary: size, name and type by content (magic bytes)."""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

# kind -> (extensions, MIME types recognised by content)
KINDS = {
    "pdf": ({".pdf"}, {"application/pdf"}),
    "image": ({".png", ".jpg", ".jpeg", ".gif", ".webp"},
              {"image/png", "image/jpeg", "image/gif", "image/webp"}),
    # Office documents (OOXML) are zip containers; legacy .doc/.xls/.ppt are OLE files.
    "office": ({".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".doc", ".xls", ".ppt"},
               {"application/zip", "application/x-ole-storage", "application/msword",
                "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "application/vnd.oasis.opendocument.text",
                "application/vnd.oasis.opendocument.spreadsheet",
                "application/vnd.oasis.opendocument.presentation"}),
    "xlsx": ({".xlsx"}, {"application/zip",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
    "csv": ({".csv", ".txt"}, set()),  # text: no magic bytes; checked by decoding instead
}


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    content_type: str
    size: int
    sha256: str


def clean_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", os.path.basename(name or "")).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '/\\:*?"<>|')
    return name[:150] or "file"


def check_upload(upload: UploadedFile, *, kinds: tuple[str, ...], max_bytes: int) -> CheckedUpload:
    """Raise ValidationError with a clear message unless the file is of an allowed kind."""
    if upload is None:
        raise ValidationError(_("Choose a file."))
    name = clean_filename(upload.name)
    ext = os.path.splitext(name)[1].lower()
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    if upload.size > max_bytes:
        raise ValidationError(_("The file is too large (%(size)s MB); the limit is %(max)s MB.")
                              % {"size": round(upload.size / 1048576, 1),
                                 "max": round(max_bytes / 1048576)})
    allowed_ext = set().union(*(KINDS[k][0] for k in kinds))
    if ext not in allowed_ext:
        raise ValidationError(_("Files of type “%(ext)s” are not accepted. Allowed: %(allowed)s.")
                              % {"ext": ext or "?", "allowed": ", ".join(sorted(allowed_ext))})
    upload.seek(0)
    head = upload.read(8192)
    digest = hashlib.sha256(head)
    for chunk in iter(lambda: upload.read(1 << 20), b""):
        digest.update(chunk)
    upload.seek(0)
    guessed = filetype.guess(head)
    mime = guessed.mime if guessed else ""
    text_kinds = [k for k in kinds if k == "csv"]
    if ext in KINDS["csv"][0] and text_kinds:
        if guessed is not None or b"\x00" in head:
            raise ValidationError(_("This file is not a text (CSV) file."))
        mime = "text/csv"
    else:
        # The content must be of the kind the name claims: a PNG or a ZIP renamed to .pdf is
        # refused even though PNGs and ZIP-based Office files are accepted under their own names.
        allowed_mime = set().union(*(KINDS[k][1] for k in kinds if ext in KINDS[k][0]))
        if mime not in allowed_mime:
            raise ValidationError(_("The content of this file does not match its name “%(name)s”.")
                                  % {"name": name})
        if mime == "application/pdf":
            _check_pdf(upload)
    return CheckedUpload(name=name, content_type=mime, size=upload.size, sha256=digest.hexdigest())


def _check_pdf(upload: UploadedFile) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    upload.seek(0)
    try:
        reader = PdfReader(io.BytesIO(upload.read()))
        len(reader.pages)  # parses the page tree: a damaged file fails here
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(_("This PDF cannot be opened; it may be damaged.")) from exc
    finally:
        upload.seek(0)
