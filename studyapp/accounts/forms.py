"""Login form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from studyapp.core.inputs import column_length
from studyapp.core.models import User


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=column_length(User.email))])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)])
