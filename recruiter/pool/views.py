"""Pages of the pool: search, profile, tagging, touches, check-ins, due list, backfill."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..auth.access import (
    get_application,
    get_opening,
    get_silver_medalist,
    visible_pool_entries,
)
from ..extensions import db
from ..outbox.services import ContactRefused
from ..paging import open_ended_page
from . import markup
from .forms import FellThroughForm, MessageForm, SearchForm, TagForm, TouchForm
from .services import (
    PoolError,
    PoolFilters,
    check_in_draft,
    due_follow_ups,
    entry_for_candidate,
    find_in_pool,
    hire_fell_through,
    is_referable,
    log_touch,
    mark_replied,
    own_silver_medalists,
    reengagement_draft,
    role_families,
    send_check_in,
    send_reengagement,
    skill_vocabulary,
    split_skills,
    stage_reached,
    tag_silver_medalist,
    update_entry,
    why_matched,
)

bp = Blueprint("pool", __name__, url_prefix="/pool")


@bp.before_request
@login_required
def require_login() -> None:
    """Every page here needs a signed-in user."""


@bp.get("/")
def index():
    """Search the pool: filters on the side, results with why each matched."""
    form = SearchForm(request.args)
    filters = PoolFilters(
        text=form.q.data or "",
        skills=split_skills(form.skills.data or ""),
        role_family=form.role_family.data or "",
        seniority=form.seniority.data or "",
        location=form.location.data or "",
        min_rating=form.min_rating.data or 0,
        consent=form.consent.data or "",
        due=bool(form.due.data),
        sort=form.sort.data or "relevance",
    )
    page = find_in_pool(filters, visible_pool_entries, request.args.get("page", 1, type=int))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "pool/index.html",
        form=form,
        page=page,
        args=args,
        reasons=why_matched(page.items, filters),
        skills=skill_vocabulary(),
        families=role_families(),
        **markup.GLOBALS,
    )


@bp.get("/<int:entry_id>")
def show(entry_id: int):
    """A pooled candidate: the vouching manager's words, consent, touches."""
    entry = get_silver_medalist(entry_id)
    return render_template(
        "pool/show.html",
        entry=entry,
        touch_form=TouchForm(),
        referable=is_referable(entry),
    )


@bp.route("/tag/<int:application_id>", methods=["GET", "POST"])
def tag(application_id: int):
    """Tag an application's candidate as a silver medalist and ask for consent."""
    application = get_application(application_id)
    form = TagForm()
    if form.validate_on_submit():
        try:
            entry = tag_silver_medalist(application, current_user, **tag_values(form))
        except PoolError as error:
            form.strengths.errors.append(str(error))
        else:
            db.session.commit()
            flash(
                f"{application.candidate.name} is in the pool, consent pending: "
                "we asked them by email.",
                "success",
            )
            return redirect(url_for("pool.show", entry_id=entry.id))
    return render_template(
        "pool/tag.html",
        form=form,
        application=application,
        reached=stage_reached(application),
        existing=entry_for_candidate(application.candidate),
        skills=skill_vocabulary(),
        families=role_families(),
    )


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
def edit(entry_id: int):
    """Change an entry's strengths, skills, role, rating or cadence."""
    entry = get_silver_medalist(entry_id)
    form = TagForm(obj=entry, seniority=entry.seniority.value if entry.seniority else "")
    if request.method == "GET":
        form.skills.data = ", ".join(s.name for s in entry.skills)
    if entry.in_pool and form.validate_on_submit():
        update_entry(entry, current_user, **tag_values(form))
        db.session.commit()
        flash("Saved.", "success")
        return redirect(url_for("pool.show", entry_id=entry.id))
    return render_template(
        "pool/edit.html",
        form=form,
        entry=entry,
        skills=skill_vocabulary(),
        families=role_families(),
    )


def tag_values(form: TagForm) -> dict:
    return {
        "strengths": form.strengths.data.strip(),
        "skills": split_skills(form.skills.data or ""),
        "role_family": form.role_family.data or "",
        "seniority": form.seniority.data or None,
        "locations": (form.locations.data or "").strip(),
        "rating": form.rating.data,
        "cadence_months": form.cadence_months.data,
    }


@bp.post("/<int:entry_id>/touches")
def touch(entry_id: int):
    """Log a touch (call, coffee, message): the clock restarts."""
    entry = get_silver_medalist(entry_id)
    form = TouchForm()
    if form.validate_on_submit():
        log_touch(entry, current_user, form.channel.data, form.note.data)
        db.session.commit()
        flash("Touch logged; the next one is planned.", "success")
        return redirect(url_for("pool.show", entry_id=entry.id))
    return render_template(
        "pool/show.html", entry=entry, touch_form=form, referable=is_referable(entry)
    ), 400


@bp.post("/<int:entry_id>/replied")
def replied(entry_id: int):
    """The candidate replied: pause the cadence until someone acts."""
    entry = get_silver_medalist(entry_id)
    mark_replied(entry, current_user)
    db.session.commit()
    flash(f"Marked as replied: {entry.candidate.name} waits for an answer.", "info")
    return redirect(url_for("pool.show", entry_id=entry.id))


@bp.route("/<int:entry_id>/check-in", methods=["GET", "POST"])
def check_in(entry_id: int):
    """Send a short check-in from a template; it counts as a touch."""
    entry = get_silver_medalist(entry_id)
    subject, body = check_in_draft(entry, current_user)
    form = MessageForm(subject=subject, body=body)
    if form.validate_on_submit():
        try:
            send_check_in(entry, current_user, form.subject.data, form.body.data)
        except (PoolError, ContactRefused) as error:
            flash(str(error), "warning")
        else:
            db.session.commit()
            flash(f"Check-in to {entry.candidate.name} queued.", "success")
            return redirect(url_for("pool.show", entry_id=entry.id))
    return render_template(
        "pool/check_in.html", form=form, entry=entry, referable=is_referable(entry)
    )


@bp.get("/due")
def due():
    """Whose touch is due: mine, or the whole team's."""
    team = request.args.get("who") == "team"
    query = visible_pool_entries(due_follow_ups(None if team else current_user))
    # Not counted: a big team's due list can hold most of the pool.
    page = open_ended_page(query, request.args.get("page", 1, type=int), per_page=25)
    return render_template("pool/due.html", page=page, team=team)


@bp.post("/applications/<int:application_id>/fell-through")
def fell_through(application_id: int):
    """The hire fell through: reopen the opening and call the runners-up."""
    application = get_application(application_id)
    form = FellThroughForm()
    if not form.validate_on_submit():
        flash("Choose what happened.", "danger")
        return redirect(url_for("openings.show", opening_id=application.opening_id))
    try:
        opening = hire_fell_through(application, current_user, form.reason.data)
    except PoolError as error:
        flash(str(error), "warning")
        return redirect(url_for("openings.show", opening_id=application.opening_id))
    db.session.commit()
    flash(f"{opening.title} is open again. Here are its silver medalists.", "info")
    return redirect(url_for("pool.backfill", opening_id=opening.id))


@bp.get("/openings/<int:opening_id>/backfill")
def backfill(opening_id: int):
    """The opening's own silver medalists, each with a draft re-engagement message."""
    opening = get_opening(opening_id)
    drafts = []
    for entry in own_silver_medalists(opening):
        subject, body = reengagement_draft(entry, opening, current_user)
        form = MessageForm(subject=subject, body=body, prefix=f"e{entry.id}")
        drafts.append((entry, form, is_referable(entry)))
    return render_template("pool/backfill.html", opening=opening, drafts=drafts)


@bp.post("/openings/<int:opening_id>/backfill/<int:entry_id>")
def reengage(opening_id: int, entry_id: int):
    """Send one (edited) re-engagement message through the outbox."""
    opening = get_opening(opening_id)
    entry = get_silver_medalist(entry_id)
    form = MessageForm(prefix=f"e{entry.id}")
    if form.validate_on_submit():
        try:
            send_reengagement(entry, current_user, form.subject.data, form.body.data)
        except (PoolError, ContactRefused) as error:
            flash(str(error), "warning")
        else:
            db.session.commit()
            flash(f"Message to {entry.candidate.name} queued.", "success")
    else:
        flash("The message needs a subject and some words.", "danger")
    return redirect(url_for("pool.backfill", opening_id=opening.id))
