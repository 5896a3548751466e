"""Command-line verbs: ``flask --app wsgi <command>``."""
from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from .db import db_session


def init_cli(app: Flask) -> None:
    @app.cli.command("db-upgrade")
    def db_upgrade():
        """Apply all migrations."""
        from .migrate import upgrade

        upgrade(current_app.extensions["engine"])
        click.echo("データベースを最新の状態にしました。")

    @app.cli.command("seed-demo")
    @click.option("--force", is_flag=True, help="データがあっても投入する")
    def seed_demo(force: bool):
        """Load the demo data when the database is empty."""
        from .demo import load_demo_data
        from .models import User

        if not force and db_session.scalar(select(func.count()).select_from(User)):
            click.echo("データがあるため、デモデータは投入しませんでした。")
            return
        load_demo_data(db_session)
        db_session.commit()
        click.echo("デモデータを投入しました。")
