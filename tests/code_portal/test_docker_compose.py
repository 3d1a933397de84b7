"""docker-compose.yml and the Dockerfile: there is no Docker engine here, so these read the files
and check that they describe the deployment the settings expect."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["web", "worker", "beat"]
LONG_RUNNING = ["web", "worker", "beat", "postgres", "redis"]
# What production cannot run without (settings.py refuses or misbehaves otherwise).
PRODUCTION_REQUIRED = {"CODE_PORTAL_ENV", "DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY",
                       "DJANGO_ALLOWED_HOSTS", "SITE_URL", "EMAIL_URL"}


def settings_env_names() -> set[str]:
    """Every environment variable settings.py reads through django-environ."""
    source = (ROOT / "code_portal" / "settings.py").read_text()
    return set(re.findall(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""", source))


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} substitution, and $$ escapes."""

    def substitute(match: re.Match) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        current = variables.get(name, "")
        if op == ":?" and not current:
            raise LookupError(f"{name}: {arg}")
        if op == ":-" and not current:
            return arg
        return current

    pattern = r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}"
    return re.sub(pattern, substitute, value.replace("$$", "\0")).replace("\0", "$")


def app_environment(service: str) -> dict[str, str]:
    return {key: str(value) for key, value in SERVICES[service]["environment"].items()}


def named_volume_at(service: str, target: str) -> str:
    for mount in SERVICES[service].get("volumes", []):
        source, _, path = mount.partition(":")
        if path.split(":")[0] == target:
            return source
    raise AssertionError(f"{service} mounts nothing at {target}")


def test_compose_runs_web_worker_beat_postgres_and_redis():
    assert set(LONG_RUNNING) <= set(SERVICES)
    assert SERVICES["web"]["command"].startswith("gunicorn code_portal.wsgi ")
    assert SERVICES["worker"]["command"].startswith("celery -A code_portal worker")
    assert SERVICES["beat"]["command"].startswith("celery -A code_portal beat")
    assert SERVICES["postgres"]["image"] == "postgres:16"
    assert SERVICES["redis"]["image"] == "redis:7"
    for service in APP_SERVICES:
        assert SERVICES[service]["build"] == "."


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_every_long_running_service_has_a_health_check(service):
    check = SERVICES[service].get("healthcheck")
    assert check and not check.get("disable"), f"{service} has no health check"
    assert check["test"][0] in {"CMD", "CMD-SHELL"} and len(check["test"]) > 1


def test_web_health_check_polls_healthz():
    assert "http://127.0.0.1:8000/healthz/" in " ".join(SERVICES["web"]["healthcheck"]["test"])


@pytest.mark.parametrize("service", [*APP_SERVICES, "migrate"])
def test_app_services_start_once_postgres_and_redis_are_healthy(service):
    depends = SERVICES[service]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_web_worker_and_beat_start_after_migrations_succeeded(service):
    assert SERVICES[service]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "migrate --noinput" in SERVICES["migrate"]["command"]
    assert "setup_schedules" in SERVICES["migrate"]["command"]


def test_database_and_uploaded_files_live_on_named_volumes():
    declared = set(COMPOSE["volumes"])
    assert named_volume_at("postgres", "/var/lib/postgresql/data") in declared
    for service in ["web", "worker"]:
        media_root = app_environment(service)["MEDIA_ROOT"]
        assert named_volume_at(service, media_root) in declared
    # web stores uploads, the worker reads them and writes generated documents: the same volume.
    assert named_volume_at("web", "/data/media") == named_volume_at("worker", "/data/media")


@pytest.mark.parametrize("service", [*APP_SERVICES, "migrate"])
def test_every_variable_given_to_the_app_is_read_by_settings(service):
    unread = set(app_environment(service)) - settings_env_names()
    assert not unread, f"{service} sets variables settings.py never reads: {sorted(unread)}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_get_every_production_setting(service):
    environment = app_environment(service)
    assert set(environment) >= PRODUCTION_REQUIRED
    assert environment["CODE_PORTAL_ENV"] == "production"
    # The secret has no default: compose itself refuses to start without one.
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]+\}", environment["DJANGO_SECRET_KEY"])
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")


def test_compose_refuses_to_interpolate_without_a_secret_key():
    with pytest.raises(LookupError, match="DJANGO_SECRET_KEY"):
        interpolate(app_environment("web")["DJANGO_SECRET_KEY"], {})


def test_the_compose_environment_loads_the_production_settings(tmp_path):
    shell = {"DJANGO_SECRET_KEY": "Zq7-kP2w_xN9vR4t-Lm8sB1c_Yh6jF0d-Ga5uE3",
             "POSTGRES_PASSWORD": "pg-secret", "DJANGO_ALLOWED_HOSTS": "portal.example.org"}
    environment = {key: interpolate(value, shell) for key, value in app_environment("web").items()}
    environment["MEDIA_ROOT"] = str(tmp_path / "media")  # the container path does not exist here
    probe = ("import json; from django.conf import settings as s; from code_portal.celery import app;"
             "print(json.dumps({'production': s.PRODUCTION, 'debug': s.DEBUG,"
             " 'db': [s.DATABASES['default'][k] for k in ('ENGINE', 'HOST', 'NAME', 'PASSWORD')],"
             " 'broker': app.conf.broker_url, 'cache': s.CACHES['default']['LOCATION'],"
             " 'hosts': s.ALLOWED_HOSTS, 'site': s.SITE_URL}))")
    clean = {k: v for k, v in os.environ.items()
             if k.startswith(("PATH", "HOME", "LANG", "LC_", "PYTHON", "VIRTUAL_ENV"))}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**clean, **environment, "DJANGO_SETTINGS_MODULE": "code_portal.settings"}, check=False)

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["production"] is True and loaded["debug"] is False
    assert loaded["db"] == ["django.db.backends.postgresql", "postgres", "code_portal", "pg-secret"]
    assert loaded["cache"] == "redis://redis:6379/0"
    assert loaded["broker"] == "redis://redis:6379/1"  # the queue apart from the cache
    assert loaded["hosts"] == ["portal.example.org"]
    assert loaded["site"] == "http://localhost:8000"


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", duration))


def test_worker_is_given_time_to_finish_its_longest_task_on_shutdown():
    from django.conf import settings

    assert _seconds(SERVICES["worker"]["stop_grace_period"]) >= settings.CELERY_TASK_TIME_LIMIT


def test_dockerfile_builds_a_slim_image_from_the_lock_file_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line.split(maxsplit=1) for line in dockerfile.splitlines()
                    if line.strip() and not line.startswith(("#", " "))]
    assert instructions[0] == ["FROM", "python:3.11-slim"]
    assert "-c requirements.lock" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    users = [args for keyword, *args in instructions if keyword == "USER"]
    assert users and users[-1][0] not in {"root", "0"}


def test_docker_build_context_leaves_out_secrets_and_local_state():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", "var", ".git"} <= ignored
