"""The OpenAPI schema is generated without warnings: every component and enum has one name."""

from __future__ import annotations

import pytest
from django.core.management import call_command


def test_schema_generates_and_validates_without_warnings(tmp_path):
    # Regression: two serializers named ReasonSerializer produced one "ReasonRequest" component
    # for two different bodies, and several choice sets got hashed enum names.
    out = tmp_path / "schema.yml"
    try:
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    except SystemExit as exc:  # --fail-on-warn exits non-zero
        pytest.fail(f"schema generation warned (exit {exc.code})")
    text = out.read_text()
    assert "CertificateReasonRequest" in text
    assert "Language5c9Enum" not in text and "CourseLanguageEnum" in text
