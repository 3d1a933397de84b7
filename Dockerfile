# Code Portal image: web (gunicorn), worker and beat run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The runtime dependencies declared in pyproject.toml, at exactly the versions pinned in
# requirements.lock (the lock also pins the test tools, which the image does not need).
# A layer of its own, so that a code change does not reinstall them.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c requirements.lock -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# collectstatic needs settings that load in production mode; this key is used for nothing else.
RUN pip install --no-deps -e . \
    && CODE_PORTAL_ENV=production CODE_PORTAL_VAR_DIR=/tmp/build-var \
       DJANGO_SECRET_KEY=collectstatic-only-placeholder-never-used-at-run-time \
       python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var

# Run as an unprivileged user; uploaded files go to the /data/media volume, which it owns.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app \
    && mkdir -p /data/media \
    && chown app:app /data/media
USER app

EXPOSE 8000
CMD ["gunicorn", "code_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
