"""Partner list export (CSV/XLSX) and the import template, through training's writers."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _

from signatories.partners.importer import COLUMNS, OPTIONAL, template_rows
from signatories.partners.models import Partner, PartnerState
from training.exports import FORMATS, Export, export_response

ITERATOR_CHUNK = 2000


def partners_response(partners: QuerySet[Partner], fmt: str, *, today: date) -> HttpResponse:
    """Every partner of the list with its state today; one query, streamed."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    states = dict(PartnerState.choices)
    yes, no = _("yes"), _("no")
    rows = partners.values_list("name", "kind", "country", "city", "contact_email", "website",
                                "contract_reference", "contract_start", "contract_end",
                                "carries_clause", "language", "state", "confirmed_until",
                                "linked_signatory__legal_name")

    def generate():
        for row in rows.iterator(chunk_size=ITERATOR_CHUNK):
            (name, kind, country, city, email, website, ref, start, end, clause, language,
             state, until, linked) = row
            yield [name, kind, country, city, email, website, ref, start, end,
                   yes if clause else no, language, str(states.get(state, state)), until,
                   linked or ""]

    header = list(COLUMNS) + list(OPTIONAL) + [_("confirmation"), _("confirmed until"),
                                               _("linked signatory")]
    return export_response(Export(filename="partners", sheet=_("Partners"), header=header,
                                  rows=generate()), fmt)


def template_response(fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise ValueError(fmt)
    return export_response(Export(filename="partners-import-template", sheet=_("Partners"),
                                  header=list(COLUMNS), rows=template_rows()), fmt)
