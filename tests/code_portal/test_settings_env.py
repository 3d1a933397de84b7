"""Settings come from the environment, and bad values stop start-up.

Settings are read once per process, so each case loads them in a fresh ``python`` with exactly
the environment under test (nothing inherited from the developer's or CI's shell).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3N9q-wX2v_7hT4m-Lr8sZ1c_Yb6pF0d-Ja5gE"  # 40 random-looking characters

# Print the values the tests look at, as JSON.
PROBE = """
import json
from django.conf import settings
from code_portal.celery import app
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "db_host": settings.DATABASES["default"].get("HOST", ""),
    "broker": app.conf.broker_url,
    "broker_options": {k: str(v) for k, v in app.conf.broker_transport_options.items()},
    "result_backend": app.conf.result_backend,
    "cache": settings.CACHES["default"]["BACKEND"],
    "eager": app.conf.task_always_eager,
    "acks_late": app.conf.task_acks_late,
    "time_limit": app.conf.task_time_limit,
    "debug": settings.DEBUG,
    "production": settings.PRODUCTION,
    "email_backend": settings.EMAIL_BACKEND,
    "allowed_hosts": settings.ALLOWED_HOSTS,
}))
"""


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "CODE_PORTAL_", "CELERY_"))
             and k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SITE_URL", "MEDIA_ROOT"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "code_portal.settings",
                  "CODE_PORTAL_VAR_DIR": str(tmp_path / "var"), **env})
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean,  # noqa: S603
                          capture_output=True, text=True, timeout=120, check=False)


def loaded(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def refused(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, f"settings loaded although they should not: {result.stdout}"
    return result.stderr.strip().splitlines()[-1]


def test_defaults_are_sqlite_and_the_embedded_filesystem_broker(tmp_path):
    values = loaded(load_settings(tmp_path))

    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["db_name"] == str(tmp_path / "var" / "code_portal.sqlite3")
    assert values["broker"] == "filesystem://"
    # Web, worker and beat find each other's messages in the same folder under var/.
    assert values["broker_options"]["data_folder_in"] == str(tmp_path / "var" / "broker" / "out")
    assert values["broker_options"]["data_folder_out"] == values["broker_options"]["data_folder_in"]
    assert (tmp_path / "var" / "broker" / "out").is_dir()
    assert values["result_backend"] == "django-db"
    assert values["cache"] == "django.core.cache.backends.db.DatabaseCache"
    assert values["eager"] is False  # the run command uses a real worker
    assert values["debug"] is True and values["production"] is False


def test_database_url_and_redis_url_select_postgresql_and_redis(tmp_path):
    values = loaded(load_settings(tmp_path, DATABASE_URL="postgres://portal:pw@db.internal:5432/portal",
                                  REDIS_URL="redis://cache.internal:6379/2"))

    assert values["engine"] == "django.db.backends.postgresql"
    assert (values["db_name"], values["db_host"]) == ("portal", "db.internal")
    assert values["broker"] == "redis://cache.internal:6379/2"
    assert values["result_backend"] == "redis://cache.internal:6379/2"
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"
    # Late acks on Redis: an unacknowledged task comes back after the visibility timeout, which
    # must outlast the longest run, or a task still running would be started a second time.
    assert values["acks_late"] is True
    assert int(values["broker_options"]["visibility_timeout"]) > values["time_limit"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    message = refused(load_settings(tmp_path, CODE_PORTAL_ENV="production"))
    assert "DJANGO_SECRET_KEY" in message


@pytest.mark.parametrize("weak_key", ["too-short", "django-insecure-" + "x" * 40])
def test_production_refuses_a_weak_secret_key(tmp_path, weak_key):
    message = refused(load_settings(tmp_path, CODE_PORTAL_ENV="production",
                                    DJANGO_SECRET_KEY=weak_key))
    assert "DJANGO_SECRET_KEY" in message


def test_production_starts_with_a_strong_key_and_turns_debug_off(tmp_path):
    values = loaded(load_settings(tmp_path, CODE_PORTAL_ENV="production",
                                  DJANGO_SECRET_KEY=STRONG_KEY,
                                  DJANGO_ALLOWED_HOSTS="portal.example.org,www.portal.example.org"))

    assert values["production"] is True
    assert values["debug"] is False
    assert values["allowed_hosts"] == ["portal.example.org", "www.portal.example.org"]


@pytest.mark.parametrize("bad_url", [
    "postgress://portal:pw@db:5432/portal",  # misspelt scheme
    "postgres//portal:pw@db:5432/portal",  # missing colon
    "postgres://portal:pw@db:5432/",  # no database name
    "postgres://portal:pw@db:fivefour/portal",  # port is not a number
])
def test_a_bad_database_url_stops_start_up(tmp_path, bad_url):
    message = refused(load_settings(tmp_path, DATABASE_URL=bad_url))
    assert "DATABASE_URL" in message or "Port" in message


def test_a_bad_redis_url_stops_start_up(tmp_path):
    message = refused(load_settings(tmp_path, REDIS_URL="localhost:6379"))
    assert "REDIS_URL" in message


def test_a_bad_email_url_stops_start_up(tmp_path):
    message = refused(load_settings(tmp_path, EMAIL_URL="smtpp://mail.example.org:587"))
    assert "email" in message.lower()


def test_an_unknown_environment_name_stops_start_up(tmp_path):
    message = refused(load_settings(tmp_path, CODE_PORTAL_ENV="staging"))
    assert "CODE_PORTAL_ENV" in message


def test_email_url_selects_the_mail_backend(tmp_path):
    values = loaded(load_settings(tmp_path, EMAIL_URL="smtp+tls://user:pw@mail.example.org:587"))
    assert values["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"
