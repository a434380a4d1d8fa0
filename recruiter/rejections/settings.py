"""Settings pages for recruiters and admins: rejection templates, reason codes, stage defaults."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from ..audit.services import record_event
from ..auth.access import roles_required
from ..extensions import db
from ..models import ACTIVE_STAGES, ReasonCode, RejectionTemplate, Role, Stage, StageDefault
from .forms import ReasonForm, StageDefaultForm, TemplateForm
from .placeholders import PLACEHOLDERS, PlaceholderError, fill_placeholders
from .services import NEUTRAL_CLOSING, save_reason, save_template, set_stage_default

bp = Blueprint("rejection_settings", __name__, url_prefix="/settings/rejections")


@bp.before_request
@login_required
@roles_required(Role.RECRUITER, Role.ADMIN)
def require_recruiter() -> None:
    """Only recruiters and admins keep templates and reasons; others see 404."""


@bp.get("/")
def index():
    """Templates, reason codes and the default per stage."""
    templates = db.session.scalars(select(RejectionTemplate).order_by(RejectionTemplate.name))
    reasons = db.session.scalars(select(ReasonCode).order_by(ReasonCode.group, ReasonCode.label))
    return render_template(
        "rejections/settings.html",
        templates=list(templates),
        reasons=list(reasons),
        defaults=[stage_default_form(stage) for stage in ACTIVE_STAGES],
    )


def stage_default_form(stage: Stage) -> StageDefaultForm:
    """The default form for one stage, with every template and reason to choose from."""
    default = db.session.get(StageDefault, stage)
    form = StageDefaultForm(
        formdata=None,
        stage=stage.value,
        template_id=default.template_id if default else None,
        reason_code_id=default.reason_code_id if default else None,
        prefix=stage.value,
    )
    fill_default_choices(form)
    return form


def fill_default_choices(form: StageDefaultForm) -> None:
    templates = db.session.scalars(select(RejectionTemplate).where(RejectionTemplate.active))
    reasons = db.session.scalars(select(ReasonCode).where(ReasonCode.active))
    form.template_id.choices = [SelectChoice("", "None")] + [
        SelectChoice(t.id, t.name) for t in templates
    ]
    form.reason_code_id.choices = [SelectChoice("", "None")] + [
        SelectChoice(r.id, r.label) for r in reasons
    ]


@bp.route("/templates/new", methods=["GET", "POST"], defaults={"template_id": None})
@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
def edit_template(template_id: int | None):
    """Create or change a template; unknown placeholders are refused on save."""
    template = db.get_or_404(RejectionTemplate, template_id) if template_id else None
    form = TemplateForm(obj=template)
    if template is not None and not form.is_submitted():
        form.stages.data = template.stages.split(",") if template.stages else []
    if form.validate_on_submit():
        try:
            template = save_template(template or RejectionTemplate(), **template_values(form))
        except PlaceholderError as error:
            form.body.errors.append(str(error))
        else:
            record_event(current_user, "rejection_template.saved", template, name=template.name)
            db.session.commit()
            flash(f"Saved the template “{template.name}”.", "success")
            return redirect(url_for("rejection_settings.index"))
    return render_template(
        "rejections/template_form.html",
        form=form,
        template=template,
        placeholders=PLACEHOLDERS,
        sample=sample_note(form),
    )


SAMPLE_VALUES = {
    "candidate_first_name": "Ana",
    "candidate_name": "Ana Ruiz",
    "opening_title": "Backend Engineer",
    "manager_name": "Maria López",
    "company": "Acme Robotics",
    "closing": NEUTRAL_CLOSING,
}


def sample_note(form: TemplateForm) -> tuple[str, str] | None:
    """The template filled in for a sample candidate, or None while it has problems."""
    try:
        return (
            fill_placeholders(form.subject.data or "", SAMPLE_VALUES),
            fill_placeholders(form.body.data or "", SAMPLE_VALUES),
        )
    except PlaceholderError:
        return None


def template_values(form: TemplateForm) -> dict:
    return {
        "name": form.name.data.strip(),
        "subject": form.subject.data.strip(),
        "body": form.body.data.strip(),
        "stages": ",".join(form.stages.data or []),
        "language": form.language.data.strip(),
        "active": form.active.data,
    }


@bp.route("/reasons/new", methods=["GET", "POST"], defaults={"reason_id": None})
@bp.route("/reasons/<int:reason_id>", methods=["GET", "POST"])
def edit_reason(reason_id: int | None):
    """Create or change a reason code."""
    reason = db.get_or_404(ReasonCode, reason_id) if reason_id else None
    form = ReasonForm(obj=reason)
    if form.validate_on_submit():
        values = {"label": form.label.data.strip(), "group": form.group.data}
        reason = save_reason(reason or ReasonCode(), active=form.active.data, **values)
        record_event(current_user, "reason_code.saved", reason, label=reason.label)
        db.session.commit()
        flash(f"Saved the reason “{reason.label}”.", "success")
        return redirect(url_for("rejection_settings.index"))
    return render_template("rejections/reason_form.html", form=form, reason=reason)


@bp.post("/defaults/<stage>")
def save_default(stage: str):
    """Set the default template and reason for one stage."""
    if stage not in {s.value for s in ACTIVE_STAGES}:
        return redirect(url_for("rejection_settings.index"))
    form = StageDefaultForm(prefix=stage)
    fill_default_choices(form)
    if form.validate_on_submit():
        set_stage_default(Stage(stage), form.template_id.data, form.reason_code_id.data)
        record_event(current_user, "rejection_default.saved", None, stage=stage)
        db.session.commit()
        flash(f"Saved the default for {Stage(stage).label}.", "success")
    return redirect(url_for("rejection_settings.index"))
