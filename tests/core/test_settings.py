"""The one settings module in its modes: embedded SQLite, PostgreSQL + Redis, production."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import sys, json; sys.path[:0] = ['.', 'platform'];"
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'coop.settings');"
    "from django.conf import settings;"
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], 'broker': settings.CELERY_BROKER_URL,"
    " 'cache': settings.CACHES['default']['BACKEND'], 'debug': settings.DEBUG, 'hasher': settings.PASSWORD_HASHERS[0],"
    " 'ssl': getattr(settings, 'SECURE_SSL_REDIRECT', False)}))"
)


# Variables of the test run itself that a deployment never has.
_NOT_INHERITED = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PRODUCTION", "DJANGO_ALLOW_ASYNC_UNSAFE", "COOP_TESTING"}


def probe(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    clean["COOP_VAR_DIR"] = str(ROOT / "var" / "settings-probe")
    return subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, env={**clean, **env}, check=False
    )


def test_embedded_defaults_need_no_environment() -> None:
    result = probe()
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["broker"] == "filesystem://"
    assert values["cache"].endswith("FileBasedCache")
    assert values["hasher"].endswith("Argon2PasswordHasher")


def test_postgres_and_redis_from_the_environment() -> None:
    result = probe(DATABASE_URL="postgres://postgres@127.0.0.1:5432/test", REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "core.postgresql"  # Django's, see core.postgresql.base
    assert values["broker"] == "redis://127.0.0.1:6379/0"
    assert values["cache"].endswith("RedisCache")


def test_production_refuses_the_embedded_secret_key() -> None:
    result = probe(PRODUCTION="1")
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


def test_production_is_hardened() -> None:
    result = probe(PRODUCTION="1", SECRET_KEY="x" * 60)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["debug"] is False and values["ssl"] is True


def test_check_deploy_is_clean_with_production_settings() -> None:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(
        PRODUCTION="1",
        SECRET_KEY="a-long-random-production-secret-key-for-the-deploy-check-0123456789",
        ALLOWED_HOSTS="coop.example.org",
        COOP_VAR_DIR=str(ROOT / "var" / "settings-probe"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
