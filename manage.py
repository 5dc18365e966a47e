#!/usr/bin/env python
"""Django's command-line utility for the co-op platform."""

import os
import sys
from pathlib import Path

# `platform/` is a source root, never a package: Python's standard `platform`
# module must stay importable (celery, kombu, requests and uuid use it).
ROOT = Path(__file__).resolve().parent
sys.path.insert(1, str(ROOT / "platform"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
