"""WSGI entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`."""

from protokol import create_app

app = create_app()
