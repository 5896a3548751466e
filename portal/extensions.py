from __future__ import annotations

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()


def init_extensions(app: Flask) -> None:
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
