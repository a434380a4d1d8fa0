"""Pages for openings: list, create, edit, pipeline, status, adding candidates, moving stages."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from ..auth.access import get_application, get_opening, visible_openings
from ..extensions import db
from ..models import Opening, OpeningStatus, Role, Stage, User
from ..pool.services import opening_pool
from .forms import STATUS_CHOICES, AddCandidateForm, MoveStageForm, OpeningForm, StatusForm
from .rows import pipeline_rows, row_links
from .services import (
    AlreadyApplied,
    CandidateDetailsMissing,
    StageNotAllowed,
    add_application,
    applications_by_stage,
    find_or_create_candidate,
    move_application,
    save_opening,
    set_opening_status,
    stage_counts,
)

bp = Blueprint("openings", __name__, url_prefix="/openings")


@bp.before_request
@login_required
def require_login() -> None:
    """Every page here needs a signed-in user."""


def owner_choices(form: OpeningForm) -> None:
    """Managers own their own openings; recruiters and admins pick any active manager."""
    if current_user.sees_everything:
        managers = db.session.scalars(
            select(User).where(User.role == Role.MANAGER, User.active).order_by(User.name)
        )
        form.owner_id.choices = [SelectChoice(u.id, u.name) for u in managers]
    else:
        form.owner_id.choices = [SelectChoice(current_user.id, current_user.name)]


@bp.get("/")
def index():
    """My openings (all, for recruiters), open first, with counts per stage."""
    query = visible_openings(select(Opening)).order_by(Opening.status, Opening.created_at.desc())
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=25)
    counts = stage_counts([o.id for o in page.items])
    return render_template("openings/index.html", page=page, counts=counts, stages=list(Stage))


@bp.route("/new", methods=["GET", "POST"])
def create():
    """Open a new job."""
    form = OpeningForm()
    owner_choices(form)
    if form.validate_on_submit():
        opening = save_opening(Opening(), **opening_values(form))
        db.session.commit()
        flash(f"Opened {opening.title}.", "success")
        return redirect(url_for("openings.show", opening_id=opening.id))
    return render_template("openings/form.html", form=form, opening=None)


@bp.route("/<int:opening_id>/edit", methods=["GET", "POST"])
def edit(opening_id: int):
    """Change an opening's title, team, location or owner."""
    opening = get_opening(opening_id)
    form = OpeningForm(obj=opening)
    owner_choices(form)
    if form.validate_on_submit():
        save_opening(opening, **opening_values(form))
        db.session.commit()
        flash("Saved.", "success")
        return redirect(url_for("openings.show", opening_id=opening.id))
    return render_template("openings/form.html", form=form, opening=opening)


def opening_values(form: OpeningForm) -> dict:
    return {
        "title": form.title.data.strip(),
        "team": (form.team.data or "").strip(),
        "location": (form.location.data or "").strip(),
        "owner_id": form.owner_id.data,
    }


@bp.get("/<int:opening_id>")
def show(opening_id: int):
    """The pipeline: applications grouped by stage, with their actions."""
    opening = get_opening(opening_id)
    pipeline = applications_by_stage(
        opening,
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "openings/show.html",
        opening=opening,
        pipeline=pipeline,
        status_choices=STATUS_CHOICES,
        pool=opening_pool(opening, pipeline.applications),
        pipeline_rows=pipeline_rows,
        links=row_links(),
    )


@bp.post("/<int:opening_id>/status")
def set_status(opening_id: int):
    """Mark the opening open, filled or closed."""
    opening = get_opening(opening_id)
    form = StatusForm()
    if form.validate_on_submit():
        set_opening_status(opening, OpeningStatus(form.status.data))
        db.session.commit()
        flash(f"{opening.title} is now {opening.status.value}.", "success")
    else:
        flash("Choose open, filled or closed.", "danger")
    return redirect(url_for("openings.show", opening_id=opening.id))


@bp.route("/<int:opening_id>/candidates/new", methods=["GET", "POST"])
def add_candidate(opening_id: int):
    """Add a candidate (found by email, or new) to this opening."""
    opening = get_opening(opening_id)
    form = AddCandidateForm()
    if form.validate_on_submit():
        try:
            candidate = find_candidate_for(form)
            add_application(opening, candidate, current_user)
        except (AlreadyApplied, CandidateDetailsMissing) as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Added {candidate.name} to {opening.title}.", "success")
            return redirect(url_for("openings.show", opening_id=opening.id))
    return render_template("openings/add_candidate.html", form=form, opening=opening)


def find_candidate_for(form: AddCandidateForm):
    """The existing candidate for the email, or a new one from the form's details."""
    name = (form.name.data or "").strip()
    details = {
        "name": name,
        "phone": (form.phone.data or "").strip(),
        "location": (form.location.data or "").strip(),
        "timezone": form.timezone.data,
    }
    return find_or_create_candidate(form.email.data, **details)


@bp.post("/applications/<int:application_id>/stage")
def move(application_id: int):
    """Move an application to another stage."""
    application = get_application(application_id)
    form = MoveStageForm()
    if form.validate_on_submit():
        try:
            move_application(application, Stage(form.stage.data), current_user)
        except StageNotAllowed as error:
            flash(str(error), "warning")
        else:
            db.session.commit()
            flash(f"{application.candidate.name} moved to {application.stage.label}.", "success")
    else:
        flash(" ".join(form.stage.errors) or "Choose a stage.", "danger")
    return redirect(url_for("openings.show", opening_id=application.opening_id))
