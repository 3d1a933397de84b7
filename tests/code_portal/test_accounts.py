"""Accounts: the custom user model, logging in and out with an e-mail address, password reset
by an e-mailed link, and the login rate limit (django-allauth)."""

import re

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.urls import reverse

from code_portal.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def logged_in_user_id(client):
    return client.session.get(SESSION_KEY)


def test_the_user_model_is_the_portals_own_with_email_as_login():
    model = get_user_model()
    assert model is User
    assert model.USERNAME_FIELD == "email"
    assert "username" not in {f.name for f in model._meta.get_fields()}


def test_addresses_are_stored_lower_case_and_unique_whatever_the_case():
    from django.db import IntegrityError, transaction

    user = User.objects.create_user(email="Anna.Berg@Nordic.Example", password=PASSWORD)
    assert user.email == "anna.berg@nordic.example"
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="ANNA.BERG@NORDIC.EXAMPLE", password=PASSWORD)


def test_login_page_logs_in_with_the_email_address_in_any_case(client, company_admin, company_a):
    response = client.post(LOGIN, {"login": company_admin.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert str(logged_in_user_id(client)) == str(company_admin.pk)
    # home then sends a member of one company to its dashboard
    assert client.get(response["Location"], follow=True).context["signatory"] == company_a


@pytest.mark.parametrize("data", [
    {"login": "anna@nordic.example", "password": "wrong-password-2026"},
    {"login": "nobody@nowhere.example", "password": PASSWORD},
])
def test_login_with_wrong_credentials_says_so_and_logs_nobody_in(client, company_admin, data):
    if data["login"] == "anna@nordic.example":
        data = {**data, "login": company_admin.email}
    response = client.post(LOGIN, data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "not correct" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_login_with_empty_fields_names_each_field(client):
    response = client.post(LOGIN, {"login": "", "password": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"login", "password"}
    assert logged_in_user_id(client) is None


def test_deactivated_user_cannot_log_in(client, company_admin):
    company_admin.is_active = False
    company_admin.save(update_fields=["is_active"])
    client.post(LOGIN, {"login": company_admin.email, "password": PASSWORD})
    assert logged_in_user_id(client) is None


def test_there_is_no_free_signup(client):
    """People join by applying for their company or by invitation, never by a bare sign-up."""
    response = client.post(reverse("account_signup"), {
        "email": "drifter@nowhere.example", "password1": PASSWORD, "password2": PASSWORD})
    assert not User.objects.filter(email="drifter@nowhere.example").exists()
    assert response.status_code in (200, 302)


def test_logout_is_a_post_and_ends_the_session(client, company_admin, company_a):
    client.post(LOGIN, {"login": company_admin.email, "password": PASSWORD})
    assert logged_in_user_id(client) is not None
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert logged_in_user_id(client) is None
    dashboard = client.get(reverse("company-dashboard", args=[company_a.pk]))
    assert dashboard.status_code == 302 and dashboard["Location"].startswith(LOGIN)


def _reset_link(mail) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.body)
    assert match, mail.body
    return match.group(1)


def test_password_reset_by_emailed_link_sets_a_new_password(client, company_admin, mailoutbox):
    new_password = "a-brand-new-passphrase-2026"
    response = client.post(reverse("account_reset_password"),
                           {"email": company_admin.email.upper()})
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [company_admin.email]

    # The link leads to the form (allauth moves the key into the session first).
    form_page = client.get(_reset_link(mailoutbox[0]), follow=True)
    assert form_page.status_code == 200 and "password1" in form_page.context["form"].fields
    set_password_url = form_page.redirect_chain[-1][0]
    done = client.post(set_password_url, {"password1": new_password, "password2": new_password})
    assert done.status_code == 302

    company_admin.refresh_from_db()
    assert company_admin.check_password(new_password)
    assert not company_admin.check_password(PASSWORD)
    client.post(reverse("account_logout"))
    client.post(LOGIN, {"login": company_admin.email, "password": new_password})
    assert str(logged_in_user_id(client)) == str(company_admin.pk)


def test_password_reset_link_works_only_once(client, company_admin, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": company_admin.email})
    link = _reset_link(mailoutbox[0])
    first = client.get(link, follow=True)
    target = first.redirect_chain[-1][0]
    client.post(target, {"password1": "first-new-passphrase-2026",
                         "password2": "first-new-passphrase-2026"})
    client.post(reverse("account_logout"))

    again = client.get(link, follow=True)
    assert again.context["token_fail"]  # "The password reset link was invalid…"
    client.post(target, {"password1": "second-new-passphrase-2026",
                         "password2": "second-new-passphrase-2026"})
    company_admin.refresh_from_db()
    assert company_admin.check_password("first-new-passphrase-2026")


def test_password_reset_refuses_a_weak_or_mismatched_password_per_field(client, company_admin,
                                                                        mailoutbox):
    client.post(reverse("account_reset_password"), {"email": company_admin.email})
    page = client.get(_reset_link(mailoutbox[0]), follow=True)
    target = page.redirect_chain[-1][0]
    weak = client.post(target, {"password1": "123", "password2": "123"})
    assert weak.status_code == 200 and "password1" in weak.context["form"].errors
    mismatch = client.post(target, {"password1": "long-enough-passphrase-1",
                                    "password2": "long-enough-passphrase-2"})
    assert mismatch.status_code == 200 and mismatch.context["form"].errors
    company_admin.refresh_from_db()
    assert company_admin.check_password(PASSWORD)


def test_password_reset_for_an_unknown_address_reveals_nothing(client, company_admin, mailoutbox):
    known = client.post(reverse("account_reset_password"), {"email": company_admin.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@nowhere.example"})
    # Same answer for both: the form does not tell who has an account.
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert all("/accounts/password/reset/key/" not in m.body for m in mailoutbox
               if m.to == ["nobody@nowhere.example"])


def test_repeated_failed_logins_are_rate_limited(client, company_admin):
    for _ in range(5):
        client.post(LOGIN, {"login": company_admin.email, "password": "wrong-password-2026"})
    # Even the right password is refused while the limit holds.
    response = client.post(LOGIN, {"login": company_admin.email, "password": PASSWORD})
    assert logged_in_user_id(client) is None
    assert response.status_code in (200, 429)
    assert "Too many failed login attempts" in response.content.decode()


def test_the_api_accepts_the_login_session_and_requires_its_csrf_token_for_writes(company_admin,
                                                                                  company_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    login_page = client.get(LOGIN)
    csrf = login_page.cookies["csrftoken"].value
    client.post(LOGIN, {"login": company_admin.email, "password": PASSWORD,
                        "csrfmiddlewaretoken": csrf})
    url = f"/api/v1/signatories/{company_a.pk}/"
    assert client.get(url).json()["id"] == company_a.pk

    body = '{"employees": 77}'
    refused = client.patch(url, body, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    company_a.refresh_from_db()
    assert company_a.employees != 77
    csrf = client.cookies["csrftoken"].value  # rotated at login
    done = client.patch(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert done.status_code == 200 and done.json()["employees"] == 77


def test_the_api_refuses_anonymous_requests_with_401_or_403(client, company_a):
    assert client.get("/api/v1/signatories/").status_code in (401, 403)
    assert client.get(f"/api/v1/signatories/{company_a.pk}/").status_code in (401, 403)
