"""The navigation: staff reach every staff workspace page from any page; companies see none."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["staff-dashboard", "staff-queue", "staff-signatory-list", "staff-report-queue",
               "staff-training", "staff-partner-rates", "staff-certificates",
               "staff-audit-samples", "staff-audit-list", "staff-notifications",
               "staff-export-list"]


@pytest.mark.parametrize("persona", ["staff_reviewer", "staff_admin", "local_rep_sweden"])
def test_staff_navigation_links_every_staff_page_and_each_opens(persona, request, web_as):
    web = web_as(request.getfixturevalue(persona))
    page = web.get(reverse("public-list")).content.decode()
    assert 'aria-label="Staff"' in page
    for name in STAFF_PAGES:
        url = reverse(name)
        assert f'href="{url}"' in page, name
        assert web.get(url).status_code == 200, name


def test_company_users_see_no_staff_navigation(web_as, company_admin):
    page = web_as(company_admin).get(reverse("public-list")).content.decode()
    assert 'aria-label="Staff"' not in page
    assert reverse("staff-dashboard") not in page
    assert f'href="{reverse("reminder-preferences")}"' in page


def test_company_dashboard_links_the_notification_log_and_partners(web_as, company_admin,
                                                                  company_a):
    page = web_as(company_admin).get(reverse("company-dashboard", args=[company_a.pk]))
    html = page.content.decode()
    for url in (reverse("company-notifications", args=[company_a.pk]),
                reverse("partner-list", args=[company_a.pk]), reverse("reminder-preferences")):
        assert f'href="{url}"' in html


def test_dossier_links_the_signatorys_audit_trail(web_as, staff_reviewer, company_a):
    html = web_as(staff_reviewer).get(
        reverse("staff-signatory-detail", args=[company_a.pk])).content.decode()
    assert f'href="{reverse("staff-audit-list")}?signatory={company_a.pk}"' in html


def test_staff_partner_page_offers_the_export(web_as, staff_reviewer):
    html = web_as(staff_reviewer).get(reverse("staff-partner-rates")).content.decode()
    assert 'name="kind" value="partner_rates"' in html


@pytest.mark.parametrize("language, members, skip", [
    ("fr", "Membres", "Aller au contenu principal"),
    ("es", "Miembros", "Saltar al contenido principal"),
    ("sv", "Medlemmar", "Hoppa till huvudinnehållet"),
    ("de", "Mitglieder", "Zum Hauptinhalt springen"),
])
def test_the_site_frame_speaks_the_visitors_language(client, language, members, skip):
    html = client.get(reverse("public-list"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<html lang="{language}"' in html
    assert f">{members}</a>" in html and skip in html


def test_staff_navigation_is_translated(web_as, staff_reviewer):
    web = web_as(staff_reviewer)
    web.cookies["django_language"] = "fr"
    html = web.get(reverse("public-list")).content.decode()
    assert ">Tableau de bord</a>" in html and ">Journal d'audit</a>" in html


def test_staff_training_list_offers_one_export_control(web_as, staff_reviewer):
    # Regression: the page showed training's own download links next to the staff export
    # control; one control (small lists at once, large ones as a job) is enough.
    html = web_as(staff_reviewer).get(reverse("staff-training")).content.decode()
    assert 'name="kind" value="training_coverage"' in html
    assert "Download this list" not in html
