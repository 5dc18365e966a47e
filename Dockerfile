# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app:/app/platform DJANGO_SETTINGS_MODULE=coop.settings COOP_VAR_DIR=/var/lib/coop
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir . && useradd --system --home /app coop && mkdir -p /var/lib/coop && chown coop /var/lib/coop
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput -v0
USER coop
EXPOSE 8000
CMD ["gunicorn", "coop.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
