"""Forms on a candidate's page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..extensions import db
from ..models import Candidate
from ..outbox.forms import SingleLine
from .services import DNC_REASONS


class DoNotContactForm(FlaskForm):
    reason = SelectField("Reason", choices=[SelectChoice(k, v) for k, v in DNC_REASONS.items()])
    detail = StringField(
        "Details (optional, kept inside)", validators=[Optional(), Length(max=300)]
    )
    submit = SubmitField("Mark do-not-contact")


class EmailAddressForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired(), SingleLine(), Length(max=254), Email()],
        description="Saving clears a bouncing mark: mail to the candidate starts again.",
    )
    submit = SubmitField("Save address")

    def __init__(self, candidate: Candidate, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.candidate = candidate

    def validate_email(self, field) -> None:
        other = db.session.scalar(
            select(Candidate.id).where(
                func.lower(Candidate.email) == field.data.strip().lower(),
                Candidate.id != self.candidate.id,
            )
        )
        if other is not None:
            raise ValidationError("Another candidate already has this address.")
