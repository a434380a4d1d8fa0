"""Forms of the pool: tagging, touches, messages, search and the backfill call."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..models import ConsentState, Seniority
from .services import CHANNELS, FELL_THROUGH_REASONS, SORTS

SENIORITY_CHOICES = [SelectChoice("", "Not set")] + [
    SelectChoice(s.value, s.label) for s in Seniority
]
RATING_CHOICES = [SelectChoice(n, f"{n} of 5") for n in range(5, 0, -1)]


class TagForm(FlaskForm):
    strengths = TextAreaField(
        "Strengths",
        validators=[DataRequired(), Length(max=4000)],
        description="In your words: what made them stand out. Colleagues will read this.",
    )
    skills = StringField(
        "Skills",
        validators=[Optional(), Length(max=500)],
        description="Separated by commas; pick from the suggestions where one fits.",
    )
    role_family = StringField(
        "Role family",
        validators=[Optional(), Length(max=80)],
        description="For example engineering, design, product, data, sales.",
    )
    seniority = SelectField("Seniority", choices=SENIORITY_CHOICES, default="")
    locations = StringField(
        "Locations they would work in",
        validators=[Optional(), Length(max=200)],
        description="Cities, or remote.",
    )
    rating = SelectField("Rating", choices=RATING_CHOICES, coerce=int, default=4)
    cadence_months = IntegerField(
        "Keep in touch every (months)", default=3, validators=[NumberRange(1, 24)]
    )
    submit = SubmitField("Tag and ask for consent")


class TouchForm(FlaskForm):
    channel = SelectField("Channel", choices=[SelectChoice(c, c.capitalize()) for c in CHANNELS])
    note = TextAreaField("Note", validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField("Log touch")


class MessageForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=8000)])
    submit = SubmitField("Send")


FELL_THROUGH_CHOICES = [SelectChoice(k, v) for k, v in FELL_THROUGH_REASONS.items()]


class FellThroughForm(FlaskForm):
    reason = SelectField("What happened", choices=FELL_THROUGH_CHOICES)
    submit = SubmitField("Hire fell through")


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Words in strengths or notes", validators=[Optional(), Length(max=200)])
    skills = StringField("Skills", validators=[Optional(), Length(max=300)])
    role_family = StringField("Role family", validators=[Optional(), Length(max=80)])
    # Filters: an unknown value is ignored by the search, not shown as an error.
    seniority = SelectField(
        "Seniority",
        choices=[SelectChoice("", "Any")] + SENIORITY_CHOICES[1:],
        validate_choice=False,
    )
    location = StringField("Location", validators=[Optional(), Length(max=120)])
    min_rating = SelectField(
        "Rating at least",
        choices=[SelectChoice(0, "Any")] + RATING_CHOICES,
        coerce=int,
        default=0,
        validate_choice=False,
    )
    consent = SelectField(
        "Consent",
        choices=[SelectChoice("", "In the pool (pending or given)")]
        + [SelectChoice(s.value, s.label.capitalize()) for s in ConsentState],
        validate_choice=False,
    )
    due = BooleanField("Follow-up due")
    sort = SelectField(
        "Sort by", choices=[SelectChoice(k, v) for k, v in SORTS.items()], validate_choice=False
    )
