# Production image: the web app under gunicorn; the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=casemgmt.settings DJANGO_STATIC_ROOT=/app/staticfiles

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt && useradd --create-home --uid 10001 app \
    && mkdir -p /var/lib/casemgmt/audit && chown app:app /var/lib/casemgmt/audit
COPY . .
# collectstatic needs keys to import settings; the real ones only ever come from the environment.
RUN DJANGO_SECRET_KEY=build-only AUDIT_HMAC_KEY=build-only python manage.py collectstatic --no-input
USER app
EXPOSE 8000
# The access log names the path, never the query string or the referrer: searches carry names.
CMD ["gunicorn", "casemgmt.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--access-logformat", "%(h)s %(t)s \"%(m)s %(U)s %(H)s\" %(s)s %(B)s %(M)sms"]
