"""Rejecting: compose with a template and the wording check, schedule, undo, bulk, no ghosting."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import SelectChoice

from ..auth.access import get_application, get_opening, visible_openings
from ..extensions import db
from ..models import (
    Application,
    Opening,
    ReasonCode,
    Rejection,
    RejectionTemplate,
    Role,
    User,
    utcnow,
)
from ..openings.forms import MoveStageForm
from ..openings.services import waiting_page
from ..outbox.services import ContactRefused, HeaderInjection
from ..pool.services import (
    PoolError,
    entry_for_candidate,
    may_be_tagged,
    split_skills,
    tag_silver_medalist,
)
from ..security import shows_email_preview
from ..templating import waited
from .email import render_note
from .forms import BulkRejectionForm, RejectionForm
from .placeholders import PLACEHOLDERS, PlaceholderError
from .services import (
    AlreadyRejected,
    NotRejectable,
    TooLateToUndo,
    WordingBlocked,
    active_reasons,
    active_templates,
    bulk_draft,
    bulk_reject,
    cancel_rejection,
    decision_medians,
    fill_template,
    load_for_bulk,
    pending_rejections_query,
    prepare_note,
    reject_application,
    schedule_for,
    stage_default,
)
from .timing import Schedule, describe, local_label, zone
from .wording import Finding

bp = Blueprint("rejections", __name__)


@bp.before_request
@login_required
def require_login() -> None:
    """Every page here needs a signed-in user."""


def highlight(text: str, findings: list[Finding]) -> Markup:
    """The note as HTML with each flagged phrase marked; everything else escaped."""
    out, last = [], 0
    for number, f in enumerate(findings, 1):
        kind = "must-fix" if f.blocking else "to-confirm"
        out.append(escape(text[last : f.start]))
        out.append(
            Markup('<mark class="finding {}" title="{}">{}<sup>{}</sup></mark>').format(
                kind, f.label, text[f.start : f.end], number
            )
        )
        last = f.end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def timing_text(application: Application) -> str:
    """When a rejection sent now would go out, in the candidate's time and the team's."""
    when = schedule_for(application)

    return describe(when, application.candidate.timezone, team_timezone(), utcnow())


def team_timezone() -> str:
    """The team's IANA time zone, for showing times."""
    return zone(current_app.config["TEAM_TIMEZONE"]).key


@bp.app_template_global()
def send_time(moment, candidate_tz: str | None) -> str:
    """A send time in the candidate's zone and, where it differs, the team's."""
    cand, team = zone(candidate_tz).key, team_timezone()
    text = f"{local_label(moment, cand, utcnow())} candidate's time ({cand})"
    if cand != team:
        text += f", {local_label(moment, team, utcnow())} your time"
    return text


def start_from_template(form, application: Application, template: RejectionTemplate | None):
    """Fill subject and note from the template for this application."""
    if template is not None:
        form.subject.data, form.body.data = fill_template(template, application, current_user)


@bp.route("/applications/<int:application_id>/reject", methods=["GET", "POST"])
@shows_email_preview
def reject(application_id: int):
    """Compose, check, preview and send the note; the reason stays inside."""
    application = get_application(application_id)
    if not application.stage.is_active:
        name, stage = application.candidate.name, application.stage.value
        flash(f"{name} is {stage}: there is no note to send.", "info")
        return redirect(url_for("openings.show", opening_id=application.opening_id))
    form = RejectionForm()
    # Templates that suit the application's stage come first.
    templates = sorted(active_templates(), key=lambda t: application.stage not in t.stage_list)
    form.set_choices(templates, active_reasons())
    draft, error = None, None
    if not form.is_submitted():
        template, reason = stage_default(application.stage)
        form.template_id.data = template.id if template else None
        form.reason_code_id.data = reason.id if reason else None
        start_from_template(form, application, template)
    elif form.use_template.data:
        start_from_template(
            form, application, db.session.get(RejectionTemplate, form.template_id.data or 0)
        )
    elif form.validate():
        try:
            draft = prepare_note(application, current_user, form.subject.data, form.body.data)
            if form.send.data:
                return send_one(application, form)
        except PlaceholderError as problem:
            form.body.errors.append(str(problem))
        except WordingBlocked as blocked:
            error = str(blocked)
        except HeaderInjection as problem:
            form.subject.errors.append(str(problem))
        except (AlreadyRejected, NotRejectable, ContactRefused) as problem:
            db.session.rollback()
            flash(str(problem), "warning")
            return redirect(url_for("openings.show", opening_id=application.opening_id))
    return render_reject_page(form, application, draft, error)


def send_one(application: Application, form: RejectionForm):
    """Schedule the note (and the pool tag, if asked), commit, show it with its Undo button."""
    rejection = reject_application_from(application, form)
    if form.keep_in_pool.data:
        keep_in_pool(application, form, rejection)
    db.session.commit()
    when = schedule_for(application, rejection.created_at)
    timing = describe(when, application.candidate.timezone, team_timezone(), utcnow())
    flash(f"The note to {application.candidate.name} is scheduled. {timing}.", "success")
    return redirect(url_for("rejections.show", rejection_id=rejection.id))


def keep_in_pool(application: Application, form: RejectionForm, rejection: Rejection) -> None:
    """Tag the candidate; their consent request goes out with the note, never before it."""
    try:
        tag_silver_medalist(
            application,
            current_user,
            strengths=form.pool_strengths.data or "",
            skills=split_skills(form.pool_skills.data or ""),
            send_after=rejection.message.send_after,
        )
    except PoolError as problem:
        flash(f"The note is scheduled, but the pool said: {problem}", "warning")


def reject_application_from(application: Application, form: RejectionForm) -> Rejection:
    return reject_application(
        application,
        current_user,
        form.subject.data,
        form.body.data,
        form.internal_reason.data or "",
        reason=db.get_or_404(ReasonCode, form.reason_code_id.data),
        template=db.session.get(RejectionTemplate, form.template_id.data or 0),
        confirm_tone=form.confirm_tone.data,
    )


def timing_for(rejection: Rejection) -> str:
    """ "Sends Tue 09:00 candidate's time (Europe/Berlin), undo until then" for a rejection."""
    send_at = rejection.message.send_after
    candidate_tz = rejection.application.candidate.timezone
    return describe(Schedule(send_at, send_at, ()), candidate_tz, team_timezone(), utcnow())


def render_reject_page(form, application, draft, error):
    subject = draft.subject if draft else (form.subject.data or "")
    body = draft.body if draft else (form.body.data or "")
    findings = draft.findings if draft else []
    text, html = render_note(body, application.candidate)
    return render_template(
        "rejections/reject.html",
        form=form,
        application=application,
        may_pool=may_be_tagged(application) and entry_for_candidate(application.candidate) is None,
        preview_subject=subject,
        preview_text=text,
        preview_html=html,
        findings=findings,
        highlighted=highlight(body, findings),
        checked=draft is not None,
        wording_error=error,
        timing=timing_text(application),
        placeholders=PLACEHOLDERS,
    )


@bp.post("/applications/<int:application_id>/reject/check")
def check(application_id: int):
    """The live check for the reject page's script: findings and preview as JSON; no change."""
    application = get_application(application_id)
    data = request.get_json(silent=True) or {}
    subject, body = str(data.get("subject", ""))[:200], str(data.get("body", ""))[:10000]
    try:
        draft = prepare_note(application, current_user, subject, body)
    except PlaceholderError as problem:
        return jsonify(error=str(problem), findings=[])
    text, html = render_note(draft.body, application.candidate)
    return jsonify(
        error=None,
        subject=draft.subject,
        findings=[dict(f.to_dict(), label=f.label, blocking=f.blocking) for f in draft.findings],
        highlighted=str(highlight(draft.body, draft.findings)),
        preview_text=text,
        preview_html=html,
    )


@bp.get("/rejections/<int:rejection_id>")
def show(rejection_id: int):
    """One rejection: its note, its state and send time, and Undo while it waits."""
    rejection = get_rejection(rejection_id)
    return render_template(
        "rejections/show.html", rejection=rejection, timing=timing_for(rejection)
    )


def get_rejection(rejection_id: int) -> Rejection:
    """The rejection, or 404 when its application is not the user's to see."""
    rejection = db.session.get(Rejection, rejection_id)
    if rejection is None:
        abort(404)
    get_application(rejection.application_id)
    return rejection


@bp.post("/rejections/<int:rejection_id>/undo")
def undo(rejection_id: int):
    """Cancel a scheduled note and put the application back where it was."""
    rejection = get_rejection(rejection_id)
    name = rejection.application.candidate.name
    try:
        stage = cancel_rejection(rejection, current_user)
    except TooLateToUndo as error:
        db.session.rollback()
        flash(str(error), "warning")
    else:
        db.session.commit()
        flash(f"Undone: no note goes to {name}; back at {stage.label}.", "success")
    return redirect(
        safe_next() or url_for("openings.show", opening_id=rejection.application.opening_id)
    )


def safe_next() -> str | None:
    """A same-site path from the form's ``next`` field, or None."""
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


@bp.get("/rejections/pending")
def pending():
    """Notes scheduled and still waiting to go out, soonest first, each with Undo."""
    query = pending_rejections_query(visible_openings(select(Opening)))
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=50)
    return render_template("rejections/pending.html", page=page)


@bp.route("/openings/<int:opening_id>/bulk-reject", methods=["POST"])
def bulk(opening_id: int):
    """Reject the selected applications: one template, each note personalised and checked."""
    opening = get_opening(opening_id)
    form = BulkRejectionForm()
    form.set_choices(active_templates(), active_reasons())
    ids = selected_ids(form)
    applications = load_for_bulk(opening, ids)
    if not applications:
        flash("Select at least one candidate to reject.", "info")
        return redirect(url_for("openings.show", opening_id=opening.id))
    form.preview_id.choices = [SelectChoice(a.id, a.candidate.name) for a in applications]
    if not form.rows.entries:
        for application in applications:
            form.rows.append_entry({"application_id": application.id})
    if "body" not in request.form or form.use_template.data:
        template = db.session.get(RejectionTemplate, form.template_id.data or 0)
        if template is None:
            template, reason = stage_default(applications[0].stage)
            form.template_id.data = template.id if template else None
            form.reason_code_id.data = reason.id if reason else None
        if template is not None:
            form.subject.data, form.body.data = template.subject, template.body
        return render_bulk(form, opening, applications)
    if form.validate():
        if form.send.data and confirmed(form, len(applications)):
            return send_bulk(form, opening, ids)
        if form.send.data:
            form.confirm_count.errors.append(
                f"Type {len(applications)} to confirm rejecting {len(applications)} candidates."
            )
        return render_bulk(form, opening, applications, check=True)
    return render_bulk(form, opening, applications)


def selected_ids(form: BulkRejectionForm) -> list[int]:
    """The application ids from the opening page's checkboxes or the bulk page's rows."""
    raw = request.form.getlist("application_id") or [row.application_id.data for row in form.rows]
    return [int(v) for v in raw if str(v).isdigit()][:5000]


def confirmed(form: BulkRejectionForm, count: int) -> bool:
    return count <= current_app.config["BULK_CONFIRM_ABOVE"] or form.confirm_count.data == count


def send_bulk(form: BulkRejectionForm, opening: Opening, ids: list[int]):
    """Schedule every clean note in one transaction and show each candidate's result."""
    applications = load_for_bulk(opening, ids, lock=True)
    personal = {int(r.application_id.data): r.personal.data or "" for r in form.rows}
    results = bulk_reject(
        applications,
        current_user,
        form.subject.data,
        form.body.data,
        reason=db.get_or_404(ReasonCode, form.reason_code_id.data),
        template=db.session.get(RejectionTemplate, form.template_id.data or 0),
        internal_reason=form.internal_reason.data or "",
        personal=personal,
        confirm_tone=form.confirm_tone.data,
    )
    rows = [result.as_row() for result in results]
    db.session.commit()
    done = sum(row["ok"] for row in rows)
    flash(f"{done} of {len(rows)} notes scheduled.", "success" if done else "warning")
    return render_template("rejections/bulk_result.html", opening=opening, results=rows)


def render_bulk(form, opening, applications, check: bool = False):
    """The bulk page; with ``check``, every note is checked and one previewed."""
    by_id = {a.id: a for a in applications}
    personal = {int(r.application_id.data or 0): r.personal.data or "" for r in form.rows}
    checks, preview = {}, None
    if check:
        for application in applications:
            try:
                checks[application.id] = bulk_draft(
                    application,
                    current_user,
                    form.subject.data,
                    form.body.data,
                    personal.get(application.id, ""),
                )
            except PlaceholderError as problem:
                checks[application.id] = str(problem)
        chosen = by_id.get(form.preview_id.data) or applications[0]
        draft = checks[chosen.id]
        if not isinstance(draft, str):
            text, html = render_note(draft.body, chosen.candidate)
            preview = {"application": chosen, "draft": draft, "text": text, "html": html}
    return render_template(
        "rejections/bulk.html",
        form=form,
        opening=opening,
        by_id=by_id,
        checks=checks,
        preview=preview,
        highlight=highlight,
        placeholders=PLACEHOLDERS,
    )


@bp.get("/decisions-waiting")
def waiting():
    """No ghosting: candidates waiting on a decision too long, oldest first, by manager."""
    days = current_app.config["NO_GHOSTING_DAYS"]
    managers = []
    manager_id = None
    if current_user.sees_everything:
        managers = list(
            db.session.scalars(select(User).where(User.role == Role.MANAGER).order_by(User.name))
        )
        manager_id = request.args.get("manager", type=int)
    page = waiting_page(
        current_user,
        days,
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_SIZE"],
        owner_id=manager_id or None,
    )
    medians, medians_at = decision_medians(current_user, manager_id or None)
    names = {u.id: u.name for u in [current_user, *managers]}
    owners = set(medians) | {row.owner_id for row in page.items}
    if missing := owners - set(names):  # owners who are no longer managers
        others = db.session.scalars(select(User).where(User.id.in_(missing)))
        names |= {u.id: u.name for u in others}

    now = utcnow()
    return render_template(
        "rejections/waiting.html",
        page=page,
        # What each row shows besides the row itself: its manager and the time waited.
        rows=[
            (row, names.get(row.owner_id, "?"), waited(row.stage_changed_at, now))
            for row in page.items
        ],
        days=days,
        managers=managers,
        manager_id=manager_id,
        medians=[(names.get(k, "?"), *v) for k, v in sorted(medians.items())],
        medians_minutes_old=int((now - medians_at).total_seconds() // 60),
        move_form=MoveStageForm(),
    )
