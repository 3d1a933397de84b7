"""A session cookie Django never issued is treated as no session, never as a server error."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("forged", ["abc\x00def0123456789", "../../etc/passwd", "ÄÖÜ" * 10])
def test_forged_session_cookie_is_ignored_on_pages_and_api(client, settings, forged):
    client.cookies[settings.SESSION_COOKIE_NAME] = forged

    assert client.get("/").status_code == 200
    response = client.get("/api/v1/signatories/")
    assert response.status_code in {401, 403}  # anonymous, not a 500


def test_a_real_session_still_logs_in(client, company_admin):
    client.force_login(company_admin)

    response = client.get("/api/v1/signatories/")

    assert response.status_code == 200
