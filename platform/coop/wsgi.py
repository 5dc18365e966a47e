"""WSGI entry point for gunicorn (``gunicorn coop.wsgi``, run with ``--pythonpath platform``)."""

import os
import sys
from pathlib import Path

from django.core.wsgi import get_wsgi_application

_ROOT = Path(__file__).resolve().parents[2]
for _path in (str(_ROOT), str(_ROOT / "platform")):
    if _path not in sys.path:
        sys.path.append(_path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
application = get_wsgi_application()
