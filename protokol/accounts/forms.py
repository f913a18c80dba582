"""Login form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField(
        "E-mail",
        validators=[DataRequired("Skriv din e-mailadresse."), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "Adgangskode",
        validators=[DataRequired("Skriv din adgangskode."), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )
