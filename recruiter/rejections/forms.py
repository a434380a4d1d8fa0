"""The rejection form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError


class RejectionForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(
        "Note to the candidate",
        validators=[DataRequired(), Length(max=10000)],
        description="Exactly what the candidate will read. Thank them, be brief and kind.",
    )
    internal_reason = TextAreaField(
        "Internal reason",
        validators=[DataRequired(), Length(max=2000)],
        description="Kept inside the company. Never sent to the candidate.",
    )
    preview = SubmitField("Preview")
    send = SubmitField("Send rejection")

    def validate_subject(self, field) -> None:
        if any(c in field.data for c in "\r\n"):
            raise ValidationError("The subject must be a single line.")
