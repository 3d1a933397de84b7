"""Tenant isolation: a user of company B (or a local representative of another country) gets a
404 on every page and endpoint that names one of company A's training objects, reads nothing of A
in any list, and changes nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.training.factories import CourseFactory, TrainingData
from training import services
from training.models import (
    Course,
    Headcount,
    SessionAttachment,
    Trainee,
    TrainingRecord,
    TrainingSession,
)

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
API = "/api/v1/training"
STRANGERS = ["outsider", "local_rep_other_country"]


class World:
    def __init__(self, company_a, company_b, reporter):
        self.a = TrainingData(company_a, prefix="A")
        self.b = TrainingData(company_b, prefix="B")
        self.attachment = services.attachment_add(actor=reporter, session=self.a.session,
                                                  upload=SimpleUploadedFile("a.png", PNG))

    def snapshot(self):
        a = self.a
        return (
            list(Course.objects.filter(signatory=a.signatory).values()),
            list(TrainingSession.objects.filter(signatory=a.signatory).values()),
            list(TrainingRecord.objects.filter(signatory=a.signatory).values()),
            list(Trainee.objects.filter(signatory=a.signatory).values()),
            list(Headcount.objects.filter(signatory=a.signatory).values()),
            list(SessionAttachment.objects.filter(session__signatory=a.signatory).values()),
        )


@pytest.fixture
def world(company_a, company_b, reporter):
    return World(company_a, company_b, reporter)


# POST-only actions answer 405 to a GET before looking anything up (it says nothing about A).
def get_status(url: str) -> int:
    return 405 if url.endswith("/delete/") and ("/files/" in url or "/courses/" in url) else 404


def page_urls(w: World, company_pk: int) -> list[str]:
    """Every company training page, for company ``company_pk`` but with A's object ids."""
    a = w.a
    root = f"/company/{company_pk}/training/"
    return [
        f"{root}records/{a.record.pk}/delete/",
        f"{root}people/{a.person.pk}/",
        f"{root}people/{a.person.pk}/erase/",
        f"{root}sessions/{a.session.pk}/",
        f"{root}sessions/{a.session.pk}/edit/",
        f"{root}sessions/{a.session.pk}/delete/",
        f"{root}sessions/{a.session.pk}/files/{w.attachment.pk}/",
        f"{root}sessions/{a.session.pk}/files/{w.attachment.pk}/delete/",
        f"{root}courses/{a.course.pk}/edit/",
        f"{root}courses/{a.course.pk}/delete/",
    ]


def company_a_pages(w: World) -> list[str]:
    root = f"/company/{w.a.signatory.pk}/training/"
    return [root, f"{root}records/", f"{root}records/add/", f"{root}sessions/",
            f"{root}sessions/add/", f"{root}courses/", f"{root}courses/add/",
            f"/staff/training/{w.a.signatory.pk}/", *page_urls(w, w.a.signatory.pk)]


@pytest.mark.parametrize("persona", STRANGERS)
def test_every_page_of_company_a_is_a_404(persona, request, web_as, world):
    client = web_as(request.getfixturevalue(persona))
    before = world.snapshot()
    for url in company_a_pages(world):
        assert client.get(url).status_code == get_status(url), url
        assert client.post(url, {"confirm": "on", "reason": "x", "employees": 1,
                                 "customer_facing_employees": 0, "year": 2024,
                                 "title": "x"}).status_code == 404, url
    assert world.snapshot() == before


def test_company_a_objects_under_company_bs_own_pages_are_404(web_as, outsider, world):
    """The outsider may open B's pages, but A's ids under B's URL are as missing as any."""
    client = web_as(outsider)
    before = world.snapshot()
    for url in page_urls(world, world.b.signatory.pk):
        assert client.get(url).status_code == get_status(url), url
        assert client.post(url, {"confirm": "on"}).status_code == 404, url
    assert world.snapshot() == before


def test_company_a_objects_under_company_bs_pages_are_404_even_for_staff(web_as,
                                                                        staff_reviewer, world):
    client = web_as(staff_reviewer)
    for url in page_urls(world, world.b.signatory.pk):
        assert client.get(url).status_code == get_status(url), url
        assert client.post(url, {"confirm": "on"}).status_code == 404, url


@pytest.mark.parametrize("persona", STRANGERS)
def test_company_b_lists_show_nothing_of_company_a(persona, request, web_as, world):
    user = request.getfixturevalue(persona)
    client = web_as(user)
    if persona == "outsider":
        root = f"/company/{world.b.signatory.pk}/training/"
        html = "".join(client.get(f"{root}{p}").content.decode()
                       for p in ("", "records/", "sessions/", "courses/"))
        assert "B Person" in html
        assert "A Person" not in html and "A in-house course" not in html
    else:
        rows = client.get("/staff/training/").context["rows"]
        assert world.a.signatory.pk not in {r.pk for r in rows}


@pytest.mark.parametrize("persona", STRANGERS)
def test_every_api_endpoint_for_company_a_objects_is_a_404(persona, request, api_as, world):
    client = api_as(request.getfixturevalue(persona))
    a = world.a
    before = world.snapshot()
    reads = [f"{API}/courses/{a.course.pk}/", f"{API}/sessions/{a.session.pk}/",
             f"{API}/sessions/{a.session.pk}/attachments/{world.attachment.pk}/",
             f"{API}/records/{a.record.pk}/", f"{API}/people/{a.person.pk}/",
             f"{API}/headcounts/{a.headcount.pk}/", f"{API}/coverage/{a.signatory.pk}/",
             f"{API}/coverage/?signatory={a.signatory.pk}"]
    for url in reads:
        assert client.get(url).status_code == 404, url
    for url in (f"{API}/courses/{a.course.pk}/", f"{API}/sessions/{a.session.pk}/"):
        assert client.patch(url, {"title": "x", "trainer": "x"}, format="json").status_code == 404
    for url in (f"{API}/courses/{a.course.pk}/", f"{API}/sessions/{a.session.pk}/",
                f"{API}/records/{a.record.pk}/",
                f"{API}/sessions/{a.session.pk}/attachments/{world.attachment.pk}/"):
        assert client.delete(url).status_code == 404, url
    assert client.post(f"{API}/people/{a.person.pk}/erase/").status_code == 404
    assert client.post(f"{API}/sessions/{a.session.pk}/attachments/",
                       {"file": SimpleUploadedFile("x.png", PNG)},
                       format="multipart").status_code == 404
    assert world.snapshot() == before


@pytest.mark.parametrize("persona", STRANGERS)
def test_creating_anything_for_company_a_is_a_404(persona, request, api_as, world):
    client = api_as(request.getfixturevalue(persona))
    a = world.a
    catalogue = CourseFactory()
    today = timezone.localdate()
    before = world.snapshot()
    posts = {
        "courses": {"signatory": a.signatory.pk, "title": "x", "provider": "x",
                    "delivery_mode": "webinar", "language": "en", "duration_hours": "1"},
        "sessions": {"signatory": a.signatory.pk, "course": catalogue.pk,
                     "starts_on": str(today)},
        "records": {"signatory": a.signatory.pk, "course": catalogue.pk,
                    "completed_on": str(today), "name": "Intruder"},
        "headcounts": {"signatory": a.signatory.pk, "year": today.year, "employees": 1,
                       "customer_facing_employees": 0},
    }
    for endpoint, data in posts.items():
        assert client.post(f"{API}/{endpoint}/", data, format="json").status_code == 404, endpoint
    assert world.snapshot() == before


@pytest.mark.parametrize("persona", STRANGERS)
def test_api_lists_show_nothing_of_company_a(persona, request, api_as, world):
    client = api_as(request.getfixturevalue(persona))
    a = world.a
    own = {"courses": a.course.pk, "sessions": a.session.pk, "records": a.record.pk,
           "people": a.person.pk, "headcounts": a.headcount.pk}
    for endpoint, a_id in own.items():
        response = client.get(f"{API}/{endpoint}/")
        assert response.status_code == 200
        assert a_id not in {row["id"] for row in response.json()["results"]}, endpoint
        # filtering on A explicitly does not reveal it either
        response = client.get(f"{API}/{endpoint}/", {"signatory": a.signatory.pk})
        assert response.status_code == 200 and response.json()["results"] == [], endpoint
    coverage = client.get(f"{API}/coverage/").json()["results"]
    assert a.signatory.pk not in {row["signatory"] for row in coverage}


# --- every route, found from the URL configuration ------------------------------------------------
# The lists above name the pages; these tests walk the URL patterns themselves, so a page or an
# endpoint added later is checked without anyone remembering to list it.

PAGE_MODULES = ("training.views", "training.import_views")
API_MODULES = ("training.api", "training.import_api")


def _routes(modules, patterns=None, prefix_kwargs=()):
    """(name, kwarg names) of every named route served by a view of ``modules``."""
    from django.urls import URLPattern, URLResolver, get_resolver

    for entry in get_resolver().url_patterns if patterns is None else patterns:
        pattern = entry.pattern
        names = tuple(getattr(pattern, "converters", None) or ()) or tuple(
            getattr(getattr(pattern, "regex", None), "groupindex", None) or ())
        if isinstance(entry, URLResolver):
            yield from _routes(modules, entry.url_patterns, prefix_kwargs + names)
        elif isinstance(entry, URLPattern) and entry.name:
            view = getattr(entry.callback, "cls", entry.callback)
            if view.__module__ in modules:
                yield entry.name, prefix_kwargs + names


@pytest.fixture
def job_of_a(world, reporter):
    from training.models import ImportJob, ImportStatus

    return ImportJob.objects.create(signatory=world.a.signatory, uploaded_by=reporter,
                                    original_name="a.csv", file="a.csv",
                                    status=ImportStatus.INVALID, total_rows=2,
                                    errors=[{"line": 2, "errors": ["A's error"]}])


def _a_values(world, job) -> dict:
    a = world.a
    return {"pk": a.signatory.pk, "record_pk": a.record.pk, "person_pk": a.person.pk,
            "session_pk": a.session.pk, "attachment_pk": world.attachment.pk,
            "course_pk": a.course.pk, "job_pk": job.pk, "fmt": "csv", "what": "records"}


@pytest.mark.parametrize("persona", STRANGERS)
def test_every_company_training_page_in_the_url_configuration_is_a_404(persona, request, web_as,
                                                                       world, job_of_a):
    from django.urls import reverse

    client = web_as(request.getfixturevalue(persona))
    values = _a_values(world, job_of_a)
    before = world.snapshot()
    checked = []
    for name, kwarg_names in _routes(PAGE_MODULES):
        if "pk" not in kwarg_names:
            continue  # staff lists without a company: scoped lists, tested above
        url = reverse(name, kwargs={k: values[k] for k in kwarg_names})
        # POST-only actions answer 405 to a GET before looking anything up
        assert client.get(url).status_code in (404, 405), (name, url)
        assert client.post(url, {"confirm": "on"}).status_code == 404, (name, url)
        checked.append(name)
    assert len(checked) >= 25 and "training-import-valid-rows" in checked
    assert world.snapshot() == before
    job_of_a.refresh_from_db()
    assert job_of_a.status == "invalid"


# What ``pk`` names in each API route (the router's basename).
API_PK = {"training-course": "course", "training-session": "session",
          "training-record": "record", "training-person": "person",
          "training-headcount": "headcount", "training-coverage": "signatory",
          "api-training-import": "job"}


@pytest.mark.parametrize("persona", STRANGERS)
def test_every_training_api_route_with_an_id_of_company_a_is_a_404(persona, request, api_as,
                                                                  world, job_of_a):
    from django.urls import reverse

    client = api_as(request.getfixturevalue(persona))
    a = world.a
    ids = {"course": a.course.pk, "session": a.session.pk, "record": a.record.pk,
           "person": a.person.pk, "headcount": a.headcount.pk, "signatory": a.signatory.pk,
           "job": job_of_a.pk}
    before = world.snapshot()
    checked = []
    for name, kwarg_names in _routes(API_MODULES):
        if "pk" not in kwarg_names or "format" in kwarg_names:
            continue  # lists: tested above
        basename = next(b for b in API_PK if name.startswith(b + "-"))
        kwargs = {"pk": ids[API_PK[basename]]}
        if "attachment_pk" in kwarg_names:
            kwargs["attachment_pk"] = world.attachment.pk
        url = reverse(name, kwargs=kwargs)
        answers = {method: getattr(client, method)(url, {}, format="json").status_code
                   for method in ("get", "post", "patch", "delete")}
        assert set(answers.values()) <= {404, 405} and 404 in answers.values(), (name, answers)
        checked.append(name)
    assert len(checked) >= 10 and "api-training-import-import-valid-rows" in checked
    assert world.snapshot() == before
