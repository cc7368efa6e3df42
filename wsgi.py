"""The WSGI entry point: `gunicorn wsgi:app`. The data directory comes from MAGSEARCH_DATA
(default `instance`); the archive and index open on the first request of each worker."""

import sys

from magsearch.errors import SettingError
from magsearch.web import create_app

try:
    app = create_app()
except SettingError as exc:  # one line, not a traceback, and gunicorn stops
    sys.exit(f"magsearch: {exc}")
