"""The WSGI entry point: `gunicorn wsgi:app`. The data directory comes from MAGSEARCH_DATA
(default `instance`); the archive and index open on the first request of each worker."""

from magsearch.web import create_app

app = create_app()
