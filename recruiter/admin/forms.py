"""Forms for the admin pages."""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SubmitField

from ..models import Role

ROLE_CHOICES = [SelectChoice(r.value, r.value.capitalize()) for r in Role]


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    submit = SubmitField("Change role")


class ActiveForm(FlaskForm):
    """Deactivate or reactivate: no fields, only the CSRF token."""

    submit = SubmitField("Save")


class AuditFilterForm(FlaskForm):
    """Filters for the audit log (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    action = SelectField("Action", choices=[], validate_choice=False)
    actor = SelectField("Who", choices=[], validate_choice=False)
    submit = SubmitField("Filter")
