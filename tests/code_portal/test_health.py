"""/healthz/: what a load balancer or `docker compose` polls to know the portal can serve."""

import pytest

pytestmark = pytest.mark.django_db


def _checks(response) -> dict[str, str]:
    # Keys look like "Database(alias='default')"; keep the check's name only.
    return {key.split("(")[0]: value for key, value in response.json().items()}


def test_healthz_reports_database_cache_and_storage_ok_without_login(client):
    response = client.get("/healthz/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert _checks(response) == {"Database": "OK", "Cache": "OK", "Storage": "OK"}


def test_healthz_html_page_is_served(client):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_healthz_fails_when_uploaded_files_cannot_be_written(client, settings, tmp_path):
    not_a_folder = tmp_path / "media-is-a-file"
    not_a_folder.write_text("")
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                     "OPTIONS": {"location": str(not_a_folder)}}}

    response = client.get("/healthz/", HTTP_ACCEPT="application/json")

    assert response.status_code == 500
    checks = _checks(response)
    assert checks["Storage"] != "OK"
    assert checks["Database"] == "OK"


def test_healthz_fails_when_the_cache_is_unreachable(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens

    response = client.get("/healthz/", HTTP_ACCEPT="application/json")

    assert response.status_code == 500
    assert _checks(response)["Cache"] != "OK"


# --- /healthz/celery/: is a worker answering through the broker? -------------------------------

@pytest.fixture
def private_queue():
    """A default queue of this test's own: another test process's worker never consumes it."""
    import uuid

    from code_portal.celery import app

    saved = app.conf.task_default_queue
    app.conf.task_default_queue = f"test-health-{uuid.uuid4().hex}"
    yield app.conf.task_default_queue
    app.conf.task_default_queue = saved


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_celery_health_is_ok_when_a_worker_consumes_the_task_queue(client, private_queue):
    from celery.contrib.testing.worker import start_worker

    from code_portal.celery import app

    try:
        with start_worker(app, pool="solo", concurrency=1, queues=[private_queue],
                          perform_ping_check=False, loglevel="WARNING"):
            response = client.get("/healthz/celery/", HTTP_ACCEPT="application/json")
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(private_queue)

    assert response.status_code == 200, response.content
    assert _checks(response) == {"Ping": "OK"}


@pytest.mark.celery_worker
def test_celery_health_fails_when_no_worker_consumes_the_task_queue(client, private_queue):
    response = client.get("/healthz/celery/", HTTP_ACCEPT="application/json")

    assert response.status_code == 500
    assert _checks(response)["Ping"] != "OK"
