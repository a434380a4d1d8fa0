"""Forms on the candidate page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional

from .services import DNC_REASONS


class DoNotContactForm(FlaskForm):
    reason = SelectField("Reason", choices=[SelectChoice(k, v) for k, v in DNC_REASONS.items()])
    detail = StringField(
        "Details (optional, kept inside)", validators=[Optional(), Length(max=300)]
    )
    submit = SubmitField("Mark do-not-contact")
