"""Forms on the candidate-facing pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length, Optional


class ConsentForm(FlaskForm):
    roles_of_interest = TextAreaField(
        "Roles that interest you (optional)",
        validators=[Optional(), Length(max=1000)],
        description="For example: backend engineering, team lead, remote or Berlin.",
    )
    agree = SubmitField("Yes, keep in touch")
    decline = SubmitField("No, thank you")


class WithdrawForm(FlaskForm):
    submit = SubmitField("Remove my details and stop all messages")
