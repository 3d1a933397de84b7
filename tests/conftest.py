"""Named personas shared by every test.

company A (Sweden) with its admin, reporter and viewer; an outsider who is admin of company B
(Thailand); Code staff: a reviewer, an admin, and a local representative of another country
(Kenya) who must not see A or B.
"""

import os

import pytest
from django.core.cache.backends.redis import RedisCache
from rest_framework.test import APIClient

from code_portal.models import StaffRole
from signatories.models import MembershipRole, SignatoryStatus
from tests.factories import MembershipFactory, SignatoryFactory, StaffFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                     "OPTIONS": {"location": str(tmp_path / "media")}}}
    from code_portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


def pytest_collection_modifyitems(items):
    """Every transactional test restores the rows data migrations install (serialized_rollback).

    After a serialized test the flushed database is empty; after a plain one it holds fresh
    content types. A process that runs both kinds breaks whichever comes second (stale content
    type ids, duplicate content types, missing Code text), so all of them get the same state.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and "serialized_rollback" not in marker.kwargs:
            item.add_marker(pytest.mark.django_db(*marker.args, **marker.kwargs,
                                                  serialized_rollback=True), append=False)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test database set-up, then the fix below."""
    _share_serialized_contents()
    yield


def _share_serialized_contents() -> None:
    """Let serialized_rollback work in every context of the test thread.

    Playwright's sync API keeps an event loop running in the test thread, and Django then keys
    database connections by context: a browser test gets a connection object without the copy
    of the migration-installed rows that serialized_rollback restores. Its flush then re-creates
    content types, and the next serialized test fails to restore (duplicate content type).
    Putting the copy on the backend class gives every connection object of the test database it.
    """
    from django.db import connections

    if len(connections.settings) != 1:
        return
    connection = connections["default"]
    if hasattr(connection, "_test_serialized_contents"):
        type(connection)._test_serialized_contents = connection._test_serialized_contents


class ProcessScopedRedisCache(RedisCache):
    """A Redis cache whose clear() deletes this test process's keys only.

    Parallel test processes (pytest-xdist) share one Redis database, and Django's clear() is a
    FLUSHDB: it would wipe the other processes' keys mid-test (throttle counters, rate limits)
    and the queues of the Celery broker the worker tests use.
    """

    def clear(self):
        client = self._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        return True


@pytest.fixture(scope="session", autouse=True)
def _redis_cache_per_test_process():
    from django.conf import settings
    from django.test.utils import override_settings

    default = settings.CACHES["default"]
    if default["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        yield
        return
    process = os.environ.get("PYTEST_XDIST_WORKER", "main")
    scoped = {**default, "BACKEND": f"{__name__}.ProcessScopedRedisCache",
              "KEY_PREFIX": f"test-{process}"}
    with override_settings(CACHES={**settings.CACHES, "default": scoped}):
        yield


@pytest.fixture(autouse=True)
def _clear_cache(request):
    # Without REDIS_URL the cache is a database table: a test without database access has
    # nothing cached and may not touch the database, so there is nothing to clear.
    if not (request.node.get_closest_marker("django_db")
            or "_django_db_helper" in request.fixturenames):
        yield
        return
    request.getfixturevalue("_django_db_helper")  # the database first, as the test asked for it
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def company_a(db):
    return SignatoryFactory(legal_name="Nordic Tours AB", country="SE", active=True,
                            status=SignatoryStatus.ACTIVE)


@pytest.fixture
def company_b(db):
    return SignatoryFactory(legal_name="บริษัท สยาม ทัวร์ จำกัด", country="TH",
                            status=SignatoryStatus.ACTIVE, active=True)


@pytest.fixture
def company_admin(company_a):
    return MembershipFactory(signatory=company_a, role=MembershipRole.ADMIN,
                             user=UserFactory(email="admin@nordic.example")).user


@pytest.fixture
def reporter(company_a):
    return MembershipFactory(signatory=company_a, role=MembershipRole.REPORTER,
                             user=UserFactory(email="reporter@nordic.example")).user


@pytest.fixture
def viewer(company_a):
    return MembershipFactory(signatory=company_a, role=MembershipRole.VIEWER,
                             user=UserFactory(email="viewer@nordic.example")).user


@pytest.fixture
def outsider(company_b):
    """Admin of another company: must get 404 on everything of company A."""
    return MembershipFactory(signatory=company_b, role=MembershipRole.ADMIN,
                             user=UserFactory(email="admin@siam.example")).user


@pytest.fixture
def staff_reviewer(db):
    return StaffFactory(email="reviewer@thecode.example", staff_role=StaffRole.REVIEWER)


@pytest.fixture
def staff_admin(db):
    return StaffFactory(email="staffadmin@thecode.example", staff_role=StaffRole.ADMIN)


@pytest.fixture
def local_rep_other_country(db):
    return StaffFactory(email="lcr.kenya@thecode.example", staff_role=StaffRole.LOCAL_REP,
                        staff_countries=["KE"], is_staff=False)


@pytest.fixture
def local_rep_sweden(db):
    return StaffFactory(email="lcr.sweden@thecode.example", staff_role=StaffRole.LOCAL_REP,
                        staff_countries=["SE"], is_staff=False)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(api_client):
    def _login(user):
        api_client.force_authenticate(user=user)
        return api_client

    return _login


@pytest.fixture
def web_as(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture(autouse=True)
def _fresh_content_type_cache():
    # A transactional test's flush recreates content types with new ids; the in-process cache
    # would still hand out the old ones and the next audit row would break its foreign key.
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    yield
    ContentType.objects.clear_cache()
