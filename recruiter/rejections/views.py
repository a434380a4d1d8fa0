"""Rejecting an application from a form, with a preview of the exact email."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..auth.access import get_application
from ..extensions import db
from ..outbox.services import HeaderInjection
from ..security import shows_email_preview
from .email import render_note
from .forms import RejectionForm
from .services import AlreadyRejected, NotRejectable, default_note, reject_application

bp = Blueprint("rejections", __name__)


@bp.route("/applications/<int:application_id>/reject", methods=["GET", "POST"])
@shows_email_preview
@login_required
def reject(application_id: int):
    """Compose, preview and send the note; the internal reason stays inside."""
    application = get_application(application_id)
    if not application.stage.is_active:
        name, stage = application.candidate.name, application.stage.value
        flash(f"{name} is {stage}: there is no note to send.", "info")
        return redirect(url_for("openings.show", opening_id=application.opening_id))
    form = RejectionForm()
    if not form.is_submitted():
        form.subject.data, form.body.data = default_note(application, current_user)
    elif form.validate() and form.send.data:
        try:
            reject_application(
                application,
                current_user,
                form.subject.data,
                form.body.data,
                form.internal_reason.data,
            )
        except (AlreadyRejected, NotRejectable) as error:
            flash(str(error), "warning")
            return redirect(url_for("openings.show", opening_id=application.opening_id))
        except HeaderInjection as error:
            form.subject.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"The note to {application.candidate.name} is queued.", "success")
            return redirect(url_for("openings.show", opening_id=application.opening_id))
    text, html = render_note(form.body.data or "", application.candidate)
    return render_template(
        "rejections/reject.html",
        form=form,
        application=application,
        preview_text=text,
        preview_html=html,
    )
