"""Forms for openings and applications."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..models import ACTIVE_STAGES, OpeningStatus, Stage
from ..outbox.forms import SingleLine

TIMEZONES = sorted(available_timezones())


class OpeningForm(FlaskForm):
    # The title goes into the subject of notes: a mail header.
    title = StringField("Title", validators=[DataRequired(), SingleLine(), Length(max=200)])
    team = StringField("Team", validators=[Optional(), Length(max=120)])
    location = StringField("Location", validators=[Optional(), Length(max=120)])
    owner_id = SelectField("Hiring manager", coerce=int)
    submit = SubmitField("Save opening")


class AddCandidateForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), SingleLine(), Email(), Length(max=254)])
    name = StringField(
        "Full name",
        validators=[Optional(), SingleLine(), Length(max=120)],
        description="Needed only for someone new; an existing candidate is found by email.",
    )
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    location = StringField("Location", validators=[Optional(), Length(max=120)])
    timezone = SelectField("Time zone", choices=TIMEZONES, default="UTC")
    submit = SubmitField("Add to opening")


# The choices of the forms below, also drawn by hand on the opening page (once per page).
STAGE_CHOICES = [
    SelectChoice(s.value, s.label) for s in [*ACTIVE_STAGES, Stage.HIRED, Stage.WITHDRAWN]
]
STATUS_CHOICES = [SelectChoice(s.value, s.value.capitalize()) for s in OpeningStatus]


class MoveStageForm(FlaskForm):
    stage = SelectField("Move to", choices=STAGE_CHOICES)
    submit = SubmitField("Move")

    def validate_stage(self, field) -> None:
        if field.data == Stage.REJECTED.value:
            raise ValidationError("Use Reject, so the candidate receives a note.")


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=STATUS_CHOICES)
    submit = SubmitField("Update status")
