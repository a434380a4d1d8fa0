"""Forms of referrals: refer, accept, decline, and the candidate's answer."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from .services import ACCEPT_STAGES


class ReferForm(FlaskForm):
    opening_id = RadioField(
        "Opening", coerce=int, validators=[InputRequired(message="Choose an opening.")]
    )
    note = TextAreaField(
        "Why they fit",
        validators=[DataRequired(message="Tell your colleague why."), Length(max=4000)],
        description="Your colleague reads this beside the pool profile; the candidate does not.",
    )


class AcceptForm(FlaskForm):
    stage = SelectField(
        "Start at stage",
        choices=[SelectChoice(s.value, s.label) for s in ACCEPT_STAGES],
        default="screen",
    )


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        "Reason for declining",
        validators=[
            DataRequired(message="Please give a reason: the referrer reads it."),
            Length(max=2000),
        ],
        description="Sent to the referrer. Keep it job-related.",
    )


class WithdrawForm(FlaskForm):
    """Only the CSRF token."""


class AnswerForm(FlaskForm):
    agree = SubmitField("Yes, please introduce me")
    decline = SubmitField("No, thank you")
