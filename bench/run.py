"""``make bench``: runs every benchmark in bench/ against PostgreSQL and prints one table.

Each module ``bench/<name>.py`` defines ``run() -> list[dict]`` with rows
{"what", "figure", "reference", "ratio", "goal"}. Benchmarks measure; they never
assert, and the test suite never runs them.
"""

import importlib
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coop_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
os.environ.setdefault("COOP_TESTING", "1")  # local cache, eager jobs, fast password hashing


def _prepare_database() -> None:
    """A fresh benchmark database, migrated, so figures never depend on leftovers."""
    import django
    from django.conf import settings

    django.setup()
    if not settings.IS_POSTGRES:
        sys.exit("make bench needs PostgreSQL: set DATABASE_URL=postgres://...")
    from django.core.management import call_command
    from django.db import connection

    name = settings.DATABASES["default"]["NAME"]
    connection.close()
    import psycopg

    params = settings.DATABASES["default"]
    with psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)


def main(selected: list[str]) -> int:
    _prepare_database()
    names = selected or sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem not in {"run", "__init__"})
    rows: list[dict[str, str]] = []
    failures = 0
    for name in names:
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
