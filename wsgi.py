"""The WSGI entry point: ``gunicorn wsgi:app``."""

from recruiter import create_app

app = create_app()
