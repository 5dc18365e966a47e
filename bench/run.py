"""``make bench``: runs every benchmark in bench/ against PostgreSQL and prints one table.

Each module ``bench/<name>.py`` (but ``run`` and helpers named ``_*``) defines ``run() -> list[dict]`` with rows
{"what", "figure", "reference", "ratio", "goal"}. Benchmarks measure; they never
assert, and the test suite never runs them.
"""

import importlib
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coop_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
os.environ.setdefault("COOP_TESTING", "1")  # local cache, eager jobs, fast password hashing
os.environ.setdefault("LOG_LEVEL", "WARNING")  # the table, not every request's log line


def _admin() -> Any:
    import psycopg
    from django.conf import settings

    params = settings.DATABASES["default"]
    return psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        dbname="postgres",
        autocommit=True,
    )


def _prepare_template() -> None:
    """Migrates a template database once; every benchmark then starts from a copy of it,
    so no figure depends on what another benchmark left behind."""
    import django
    from django.conf import settings

    django.setup()
    if not settings.IS_POSTGRES:
        sys.exit("make bench needs PostgreSQL: set DATABASE_URL=postgres://...")
    from django.core.management import call_command
    from django.db import connection

    name = settings.DATABASES["default"]["NAME"]
    connection.close()
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'DROP DATABASE IF EXISTS "{name}_template" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    connection.close()
    with _admin() as admin:
        admin.execute(f'ALTER DATABASE "{name}" RENAME TO "{name}_template"')


def _fresh_database() -> None:
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connections

    name = settings.DATABASES["default"]["NAME"]
    connections.close_all()
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{name}_template"')
    cache.clear()


def main(selected: list[str]) -> int:
    _prepare_template()
    names = selected or sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem != "run" and p.stem[0] != "_")
    rows: list[dict[str, str]] = []
    failures = 0
    for name in names:
        _fresh_database()
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            result = module.run()
        except Exception:
            failures += 1
            traceback.print_exc()
            rows.append({"what": f"{name}: FAILED", "figure": "-", "reference": "-", "ratio": "-", "goal": "-"})
            continue
        rows.extend(result)
        print(f"[{name}] done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    headers = ["what", "figure", "reference", "ratio", "goal"]
    widths = {h: max(len(h), *(len(str(r.get(h, ""))) for r in rows)) for h in headers}
    line = " | ".join(h.ljust(widths[h]) for h in headers)
    print(line)
    print("-+-".join("-" * widths[h] for h in headers))
    for row in rows:
        print(" | ".join(str(row.get(h, "")).ljust(widths[h]) for h in headers))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
