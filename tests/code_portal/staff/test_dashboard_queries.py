"""The dashboard, its JSON and the summary PDF run a bounded number of queries: the same with
twice the rows; and a second request within the cache period reads the cached figures."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from tests.code_portal.staff.test_dashboard_figures import build_dataset

pytestmark = pytest.mark.django_db

# session, user, then the dashboard's eight (GROUP BY of signatories, report counts, trained
# people, headcounts, members over time, compliance by year, partner confirmations, signatories
# with partners)
PAGE_QUERIES = 10
# the cache's get and set when it is the database table (tests without REDIS_URL); none on Redis
CACHE_QUERIES = 6


@pytest.mark.parametrize("persona", ["staff_reviewer", "local_rep_sweden"])
def test_dashboard_queries_do_not_grow_with_rows(request, web_as, django_assert_max_num_queries,
                                                 persona):
    client = web_as(request.getfixturevalue(persona))
    build_dataset(size=40)
    cache.clear()
    with django_assert_max_num_queries(PAGE_QUERIES + CACHE_QUERIES):
        assert client.get(reverse("staff-dashboard")).status_code == 200
    build_dataset(size=80)
    cache.clear()
    with django_assert_max_num_queries(PAGE_QUERIES + CACHE_QUERIES):
        response = client.get(reverse("staff-dashboard"), {"country": "SE", "type": "hotel"})
        assert response.status_code == 200
    cache.clear()
    with django_assert_max_num_queries(PAGE_QUERIES + CACHE_QUERIES):
        assert client.get(reverse("api-staff-dashboard")).status_code == 200


def test_a_second_request_reads_the_cached_figures(web_as, staff_reviewer,
                                                   django_assert_max_num_queries):
    client = web_as(staff_reviewer)
    build_dataset(size=40)
    client.get(reverse("staff-dashboard"))
    # session, user, the cache lookup (a query only when the cache is the database table)
    with django_assert_max_num_queries(3):
        assert client.get(reverse("staff-dashboard")).status_code == 200
    with django_assert_max_num_queries(3):
        assert client.get(reverse("api-staff-dashboard")).status_code == 200


def test_summary_pdf_queries_do_not_grow_with_rows(web_as, staff_reviewer,
                                                   django_assert_max_num_queries):
    client = web_as(staff_reviewer)
    url = reverse("staff-annual-summary", kwargs={"year": timezone.localdate().year})
    build_dataset(size=80)
    cache.clear()
    # the dashboard's and two more (report figures per country and per type)
    with django_assert_max_num_queries(PAGE_QUERIES + 2 + CACHE_QUERIES):
        assert client.get(url).status_code == 200
