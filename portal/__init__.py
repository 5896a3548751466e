"""The 市民提案型協働モデル事業 portal."""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.routing import IntegerConverter

from . import db as database


class BoundedIntConverter(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    from config import CONFIGS, INSTANCE_DIR

    config_name = config_name or os.environ.get("PORTAL_ENV")
    if not config_name:
        # Nothing is assumed: a bare `gunicorn wsgi:app` must not come up with
        # the development key, the /dev/outbox page or the demo waiver.
        raise RuntimeError(
            "PORTAL_ENV が設定されていません。本番は PORTAL_ENV=production と SECRET_KEY を設定してください"
            "（開発は make run、または PORTAL_ENV=development）。")
    if config_name not in CONFIGS:
        raise RuntimeError(f"PORTAL_ENV={config_name!r} は使えません。production / development / testing のいずれかです。")
    config_class = CONFIGS[config_name]
    if hasattr(config_class, "check"):
        config_class.check()

    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder="../templates",
        static_folder="../static",
    )
    # IDs in URLs are bounded by the 32-bit id columns: a larger number is a
    # 404, not a database error.
    app.url_map.converters["int"] = BoundedIntConverter
    app.config.from_object(config_class)
    if overrides:
        app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    os.makedirs(app.config["UPLOAD_DIR"], exist_ok=True)
    from .files.objectstore import store_from_config

    app.extensions["object_store"] = store_from_config(app.config)  # uploads and generated documents

    engine = database.make_engine(app.config["DATABASE_URL"], echo=app.config["SQLALCHEMY_ECHO"])
    app.extensions["engine"] = engine
    database.bind(engine)

    from .extensions import init_extensions
    from .security import init_security
    from .errors import init_error_handlers
    from .templating import init_templating
    from .cli import init_cli
    from .jobs.queue import init_jobs

    init_extensions(app)
    init_security(app)
    init_error_handlers(app)
    init_templating(app)
    init_cli(app)
    init_jobs(app)
    _init_request_boundary(app)
    _register_blueprints(app)
    return app


def _init_request_boundary(app: Flask) -> None:
    """One commit per request, or a rollback on any error response."""
    session = database.db_session

    @app.after_request
    def commit_or_rollback(response):
        if not session.registry.has():
            return response  # the request never touched the database (e.g. a cached page)
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
        return response

    @app.teardown_appcontext
    def remove_session(exc):
        if exc is not None:
            session.rollback()
        session.remove()


def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .applicant import bp as applicant_bp
    from .auth import bp as auth_bp
    from .public import bp as public_bp
    from .review import bp as review_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(applicant_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(review_bp)
    from .adoption import admin_bp as adoption_admin_bp, bp as adoption_bp, public_bp as adoption_public_bp
    from .department import bp as department_bp

    app.register_blueprint(adoption_admin_bp)
    app.register_blueprint(adoption_bp)
    app.register_blueprint(adoption_public_bp)
    app.register_blueprint(department_bp)
    if app.config.get("DEV_OUTBOX"):
        from .devtools import bp as dev_bp

        app.register_blueprint(dev_bp)

    from .public.page_cache import PageCacheMiddleware

    app.wsgi_app = PageCacheMiddleware(app, app.wsgi_app)
