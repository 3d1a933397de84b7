"""Checking uploaded files at the boundary: size, name and type by content (magic bytes)."""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import zipfile
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


# Office formats that are zip packages. filetype names most of them from their first entries;
# when it only sees "a zip", the package must still carry the part that makes it a document.
OOXML = {".docx", ".xlsx", ".pptx"}
ODF = {".odt", ".ods", ".odp"}
OFFICE_PACKAGES = OOXML | ODF


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
        elif mime == "application/zip" and ext in OFFICE_PACKAGES:
            _check_office_package(upload, name, ext)
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


def _check_office_package(upload: UploadedFile, name: str, ext: str) -> None:
    """A zip named .docx/.xlsx/.pptx must be an OOXML package ([Content_Types].xml), one named
    .odt/.ods/.odp an OpenDocument one (its "mimetype" entry); any other zip is refused."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as package:
            names = set(package.namelist())
            if ext in ODF:
                is_document = ("mimetype" in names and package.read("mimetype")
                               .startswith(b"application/vnd.oasis.opendocument"))
            else:
                is_document = "[Content_Types].xml" in names
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, KeyError, ValueError):
        is_document = False
    finally:
        upload.seek(0)
    if not is_document:
        raise ValidationError(_("The content of this file does not match its name “%(name)s”.")
                              % {"name": name})
