"""The framework's floor for ``make bench``: a plain Flask "hello" in the same gunicorn set-up.

Not part of the product; served as ``gunicorn benchmarks.hello:app``.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """The cheapest page Flask can serve."""
    return "Hello, World!"
