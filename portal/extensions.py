from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without building the signing
    serializer for a request that carries no session cookie (most public
    visitors on results day): such a request gets an empty session, as
    Flask would give it, at a fraction of the cost."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def init_extensions(app: Flask) -> None:
    app.session_interface = CookieSessionInterface()
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "このページを見るにはログインしてください。"
    login_manager.login_message_category = "info"
    # The login session record is checked on every request; no remember-me
    # cookie, so logging out really ends the login.
    login_manager.session_protection = "basic"

    from .auth.sessions import load_user_from_token

    login_manager.user_loader(load_user_from_token)
