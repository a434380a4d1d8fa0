"""recruiter: respectful rejections, a silver-medalist pool and referrals between managers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, render_template

from . import security
from .config import Defaults
from .extensions import bootstrap, csrf, db, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages and commands."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    configure(app, test_config)
    security.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_globals(app)
    return app


def configure(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Defaults in code, then the instance folder, then RECRUITER_* variables (or a test map)."""
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("RECRUITER")
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        path = Path(app.instance_path) / "recruiter.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        timeout = app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": timeout}})


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of ``extensions.py`` to this app."""
    from .database import configure_engine

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True)
    mail.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    with app.app_context():
        configure_engine(db.engine)

    from .auth.services import load_user_from_session

    login_manager.user_loader(load_user_from_session)


def register_blueprints(app: Flask) -> None:
    """Import blueprints here, inside the factory, so no module imports the app."""
    from .admin.views import bp as admin_bp
    from .auth.views import bp as auth_bp
    from .candidates.views import bp as candidates_bp
    from .desk.views import bp as desk_bp
    from .openings.views import bp as openings_bp
    from .outbox.views import bp as outbox_bp
    from .outbox.views import problems_bp
    from .pool.views import bp as pool_bp
    from .privacy.views import bp as privacy_bp
    from .public.views import bp as public_bp
    from .referrals.views import bp as referrals_bp
    from .rejections.settings import bp as rejection_settings_bp
    from .rejections.views import bp as rejections_bp

    for bp in (
        auth_bp,
        desk_bp,
        openings_bp,
        candidates_bp,
        rejections_bp,
        rejection_settings_bp,
        outbox_bp,
        problems_bp,
        pool_bp,
        public_bp,
        referrals_bp,
        admin_bp,
        privacy_bp,
    ):
        app.register_blueprint(bp)


def register_errorhandlers(app: Flask) -> None:
    """Friendly pages for the errors a user can meet."""

    def render_error(error):
        code = getattr(error, "code", 500)
        return render_template("errors/error.html", error=error, code=code), code

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, render_error)


def register_commands(app: Flask) -> None:
    """Click commands, grouped by noun."""
    from .auth.commands import users_cli
    from .demo.commands import demo_cli
    from .outbox.commands import outbox_cli
    from .pool.commands import pool_cli
    from .privacy.commands import privacy_cli
    from .rejections.commands import check_note_command

    for command in (users_cli, outbox_cli, demo_cli, check_note_command, pool_cli, privacy_cli):
        app.cli.add_command(command)


def register_template_globals(app: Flask) -> None:
    """Values every template may use."""
    from .models import utcnow
    from .templating import GLOBALS

    app.jinja_env.globals.update(GLOBALS)

    @app.context_processor
    def inject_now() -> dict:
        return {"now": utcnow(), "company": app.config["COMPANY_NAME"]}
