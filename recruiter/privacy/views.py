"""One candidate's privacy page: export, legal hold, erase. Recruiters and admins."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..audit.services import record_event
from ..auth.access import get_candidate, roles_required
from ..extensions import db
from ..models import Role
from .forms import EraseForm, ExportForm, LegalHoldForm, ReleaseForm
from .services import (
    AlreadyErased,
    UnderLegalHold,
    erase_candidate,
    export_candidate,
    legal_hold_of,
    release_legal_hold,
    set_legal_hold,
)

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
STAFF = (Role.RECRUITER, Role.ADMIN)


def render_page(candidate, **forms):
    forms.setdefault("erase_form", EraseForm())
    forms.setdefault("hold_form", LegalHoldForm())
    return render_template(
        "privacy/candidate.html",
        candidate=candidate,
        hold=legal_hold_of(candidate),
        export_form=ExportForm(),
        release_form=ReleaseForm(),
        **forms,
    )


@bp.get("/candidates/<int:candidate_id>")
@login_required
@roles_required(*STAFF)
def candidate(candidate_id: int):
    """Export, hold or erase this candidate's data."""
    return render_page(get_candidate(candidate_id))


@bp.post("/candidates/<int:candidate_id>/export")
@login_required
@roles_required(*STAFF)
def export(candidate_id: int):
    """Everything held about the candidate, as one JSON download (recorded in the audit log)."""
    candidate = get_candidate(candidate_id)
    if not ExportForm().validate_on_submit():
        return redirect(url_for("privacy.candidate", candidate_id=candidate.id))
    data = export_candidate(candidate)
    record_event(current_user._get_current_object(), "candidate.exported", candidate)
    db.session.commit()
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=candidate-{candidate.id}.json"},
    )


@bp.post("/candidates/<int:candidate_id>/erase")
@login_required
@roles_required(*STAFF)
def erase(candidate_id: int):
    """Erase the candidate's personal data, on their request."""
    candidate = get_candidate(candidate_id)
    form = EraseForm()
    if not form.validate_on_submit():
        return render_page(candidate, erase_form=form), 400
    try:
        erase_candidate(candidate, current_user._get_current_object(), "request")
    except (UnderLegalHold, AlreadyErased) as error:
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(
            "The candidate's personal data is erased; pending mail to them is cancelled.", "success"
        )
    return redirect(url_for("privacy.candidate", candidate_id=candidate.id))


@bp.post("/candidates/<int:candidate_id>/hold")
@login_required
@roles_required(*STAFF)
def hold(candidate_id: int):
    """Put the candidate under a legal hold, with a reason."""
    candidate = get_candidate(candidate_id)
    form = LegalHoldForm()
    if not form.validate_on_submit():
        return render_page(candidate, hold_form=form), 400
    set_legal_hold(candidate, form.reason.data, current_user._get_current_object())
    db.session.commit()
    flash("Legal hold set: retention and erasure will skip this candidate.", "success")
    return redirect(url_for("privacy.candidate", candidate_id=candidate.id))


@bp.post("/candidates/<int:candidate_id>/release")
@login_required
@roles_required(*STAFF)
def release(candidate_id: int):
    """Release the legal hold."""
    candidate = get_candidate(candidate_id)
    if ReleaseForm().validate_on_submit():
        release_legal_hold(candidate, current_user._get_current_object())
        db.session.commit()
        flash("Legal hold released.", "success")
    return redirect(url_for("privacy.candidate", candidate_id=candidate.id))
