"""The development mailbox (every message as the candidate will see it) and delivery problems."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..auth.access import may_see_candidate, visible_openings
from ..extensions import db
from ..models import Application, OutboxMessage
from ..security import framed_by_self
from .services import ContactRefused, NotRetryable, delivery_problems, retry_message

bp = Blueprint("outbox", __name__, url_prefix="/mailbox")
problems_bp = Blueprint("delivery", __name__, url_prefix="/delivery")


def my_candidate_ids():
    """Candidates who applied to the current user's openings (a subquery)."""
    return visible_openings(select(Application.candidate_id).join(Application.opening))


def get_mailbox_message(message_id: int) -> OutboxMessage:
    """A message delivered to the development mailbox, to someone the user may see, or 404."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.transport != "mailbox":
        abort(404)
    if not may_see_candidate(message.candidate_id):
        abort(404)
    return message


@bp.before_request
def mailbox_only_without_smtp():
    """The mailbox exists only while no SMTP server is configured (development)."""
    if current_app.config.get("MAIL_SERVER"):
        abort(404)


@bp.get("/")
@login_required
def index():
    """List messages delivered to the development mailbox, newest first."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.transport == "mailbox")
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
    )
    if not current_user.sees_everything:
        query = query.where(OutboxMessage.candidate_id.in_(my_candidate_ids()))
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=25)
    return render_template("outbox/index.html", page=page)


@bp.get("/<int:message_id>")
@login_required
def show(message_id: int):
    """One message: headers, plain text, and the HTML part in a sandboxed frame."""
    return render_template("outbox/show.html", message=get_mailbox_message(message_id))


@bp.get("/<int:message_id>/html")
@login_required
@framed_by_self
def html_part(message_id: int):
    """The HTML part alone, sandboxed so that nothing in it can run."""
    message = get_mailbox_message(message_id)
    response = make_response(message.html_body)
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def get_message(message_id: int) -> OutboxMessage:
    """Any message to someone the user may see (no candidate: recruiters and admins), or 404."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or not may_see_candidate(message.candidate_id):
        abort(404)
    return message


@problems_bp.get("/")
@login_required
def problems():
    """Messages that failed or wait for a retry, most recently tried first."""
    mine = None if current_user.sees_everything else my_candidate_ids()
    page = db.paginate(
        delivery_problems(mine),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template("outbox/problems.html", page=page, form=FlaskForm())


@problems_bp.post("/<int:message_id>/retry")
@login_required
def retry(message_id: int):
    """Send a failed message again now, to the candidate's current address."""
    message = get_message(message_id)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        retry_message(message, current_user)
    except (ContactRefused, NotRetryable) as error:
        flash(str(error), "warning")
    else:
        db.session.commit()
        flash(f"“{message.subject}” will be sent again in a moment.", "success")
    return redirect(url_for("delivery.problems"))
