"""Forms for rejecting (one and many) and for the settings: templates, reasons, defaults."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..models import ACTIVE_STAGES, ReasonCode, ReasonGroup, RejectionTemplate
from .placeholders import check_placeholders


def single_line(form, field) -> None:
    if any(c in (field.data or "") for c in "\r\n"):
        raise ValidationError("The subject must be a single line.")


def known_placeholders(form, field) -> None:
    problems = check_placeholders(field.data or "")
    if problems:
        raise ValidationError(" ".join(problems))


def optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class ChoosesTemplateAndReason:
    """Fill the template and reason choices from the database (active ones only)."""

    def set_choices(self, templates: list[RejectionTemplate], reasons: list[ReasonCode]) -> None:
        self.template_id.choices = [SelectChoice(t.id, t.name) for t in templates]
        self.reason_code_id.choices = [SelectChoice("", "Choose a reason…")] + [
            SelectChoice(r.id, r.label, optgroup=r.group.label) for r in reasons
        ]


class RejectionForm(ChoosesTemplateAndReason, FlaskForm):
    template_id = SelectField(
        "Template", coerce=optional_int, validators=[Optional()], validate_choice=False
    )
    use_template = SubmitField("Use this template")
    reason_code_id = SelectField(
        "Reason",
        coerce=optional_int,
        validators=[InputRequired(message="Choose a reason: it is kept inside, never sent.")],
        description="For the company's own counts. Never sent to the candidate.",
    )
    subject = StringField(
        "Subject", validators=[DataRequired(), Length(max=200), single_line, known_placeholders]
    )
    body = TextAreaField(
        "Note to the candidate",
        validators=[DataRequired(), Length(max=10000), known_placeholders],
        description="Exactly what the candidate will read. Thank them, be brief and kind.",
    )
    internal_reason = TextAreaField(
        "Internal reason",
        validators=[Optional(), Length(max=2000)],
        description="Kept inside the company. Never sent to the candidate.",
    )
    confirm_tone = BooleanField("Send anyway: I have read the tone findings")
    keep_in_pool = BooleanField(
        "Keep in the silver-medalist pool",
        description="They are asked for consent when the note goes out; nothing else is sent "
        "until they agree.",
    )
    pool_strengths = TextAreaField(
        "Strengths, in your words",
        validators=[Optional(), Length(max=2000)],
        description="Colleagues read this when a role fits them.",
    )
    pool_skills = StringField(
        "Skills", validators=[Optional(), Length(max=500)], description="Comma-separated."
    )
    preview = SubmitField("Preview")
    send = SubmitField("Send rejection")

    def validate_reason_code_id(self, field) -> None:
        if field.data is None:
            raise ValidationError("Choose a reason: it is kept inside, never sent.")


class BulkRowForm(FlaskForm):
    class Meta:
        csrf = False

    application_id = HiddenField()
    personal = StringField("Personal line", validators=[Optional(), Length(max=500)])


class BulkRejectionForm(ChoosesTemplateAndReason, FlaskForm):
    template_id = SelectField(
        "Template", coerce=optional_int, validators=[Optional()], validate_choice=False
    )
    use_template = SubmitField("Use this template")
    reason_code_id = RejectionForm.reason_code_id
    subject = RejectionForm.subject
    body = TextAreaField(
        "Note (placeholders are filled in for each candidate)",
        validators=[DataRequired(), Length(max=10000), known_placeholders],
    )
    internal_reason = RejectionForm.internal_reason
    rows = FieldList(FormField(BulkRowForm), min_entries=0)
    preview_id = SelectField("Preview the note to", coerce=optional_int, validate_choice=False)
    confirm_tone = RejectionForm.confirm_tone
    confirm_count = IntegerField("Type the number of candidates to confirm", [Optional()])
    preview = SubmitField("Check and preview")
    send = SubmitField("Send rejections")
    validate_reason_code_id = RejectionForm.validate_reason_code_id


class TemplateForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    subject = StringField(
        "Subject", validators=[DataRequired(), Length(max=200), single_line, known_placeholders]
    )
    body = TextAreaField("Body", validators=[DataRequired(), Length(max=10000), known_placeholders])
    stages = SelectMultipleField(
        "Stages it suits", choices=[SelectChoice(s.value, s.label) for s in ACTIVE_STAGES]
    )
    language = StringField("Language", default="en", validators=[DataRequired(), Length(max=10)])
    active = BooleanField("Active (offered on the reject form)", default=True)
    submit = SubmitField("Save template")


class ReasonForm(FlaskForm):
    label = StringField("Label", validators=[DataRequired(), Length(max=120)])
    group = SelectField("Group", choices=[SelectChoice(g.value, g.label) for g in ReasonGroup])
    active = BooleanField("Active (offered on the reject form)", default=True)
    submit = SubmitField("Save reason")


class StageDefaultForm(FlaskForm):
    stage = HiddenField()
    template_id = SelectField("Default template", coerce=optional_int, validate_choice=False)
    reason_code_id = SelectField("Default reason", coerce=optional_int, validate_choice=False)
    submit = SubmitField("Save default")
