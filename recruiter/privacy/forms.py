"""Forms for the privacy page."""

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError


class ExportForm(FlaskForm):
    submit = SubmitField("Download everything as JSON")


class EraseForm(FlaskForm):
    confirm = StringField(
        "Type ERASE to confirm",
        validators=[DataRequired(), Length(max=20)],
        description="This cannot be undone. Anonymous counts are kept.",
    )
    submit = SubmitField("Erase personal data")

    def validate_confirm(self, field):
        if field.data.strip() != "ERASE":
            raise ValidationError("Type ERASE, in capitals, to confirm.")


class LegalHoldForm(FlaskForm):
    reason = TextAreaField(
        "Reason for the legal hold",
        validators=[DataRequired(), Length(max=500)],
        description="E.g. a claim or a dispute. Retention and erasure skip held candidates.",
    )
    submit = SubmitField("Set legal hold")


class ReleaseForm(FlaskForm):
    submit = SubmitField("Release legal hold")
