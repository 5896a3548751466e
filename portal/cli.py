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

    @app.cli.command("create-user")
    @click.option("--role", "role_name", required=True, type=click.Choice(["admin", "staff", "reviewer"]),
                  help="admin と staff はどちらも事務局")
    @click.option("--email", required=True, help="ログインに使うメールアドレス")
    @click.option("--name", required=True, help="表示名（氏名）")
    @click.option("--password-stdin", is_flag=True, help="パスワードを標準入力から読む（なければ招待リンクを表示）")
    def create_user(role_name: str, email: str, name: str, password_stdin: bool):
        """Create a staff or reviewer account, or print a one-time invitation link."""
        import sys

        from email_validator import EmailNotValidError, validate_email

        from .auth import invitations
        from .auth.accounts import ROLE_LABELS, ROLE_NAMES, AccountError, account_exists, create_account
        from .auth.forms import password_problem
        from .auth.invite import invitation_link
        from .auth.sessions import hash_password
        from .domain.normalize import normalize_email, normalize_text
        from .domain.timeutil import now_utc

        def fail(message: str) -> None:
            click.echo(f"エラー: {message}", err=True)
            raise SystemExit(1)

        role = ROLE_NAMES[role_name]
        email = normalize_email(email)
        name = normalize_text(name)
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            fail("メールアドレスの形式が正しくありません（例: kyodo@city.example.jp）。")
        if len(email) > 254:
            fail("メールアドレスは254文字以内にしてください。")
        if not name or len(name) > 100:
            fail("表示名は1〜100文字で指定してください。")
        if account_exists(db_session, email):
            fail(f"{email} のアカウントはすでにあります。作成しませんでした。")
        now = now_utc()
        label = ROLE_LABELS[role]
        if password_stdin:
            # One line; the newline that `echo` or a pipe adds is not part of it.
            password = sys.stdin.readline().rstrip("\r\n")
            problem = password_problem(password)
            if problem:
                fail(f"{problem} アカウントは作成しませんでした。")
            try:
                create_account(db_session, email=email, display_name=name, role=role,
                               password_hash=hash_password(password), now=now)
            except AccountError as refusal:
                fail(str(refusal))
            db_session.commit()
            click.echo(f"{label}のアカウントを作成しました: {email}（{name}）")
            click.echo("初回ログインの際に、二段階認証（認証アプリ）の登録画面が表示されます。")
            return
        try:
            invitation, token = invitations.invite(db_session, email=email, role=role, display_name=name, now=now)
        except AccountError as refusal:
            fail(str(refusal))
        link = invitation_link(token)
        db_session.commit()
        click.echo(f"{label}の招待を作成しました: {email}（{name}）")
        click.echo("次のリンクを本人に安全な方法で渡してください（7日間有効・1回限り。再表示はできません）:")
        click.echo(link)

    @app.cli.command("verify-log")
    @click.option("--call", "slug", default=None, help="募集の識別子（slug）。省略するとすべての募集")
    def verify_log(slug: str | None):
        """Verify the process log, signatures, sealed scores and published documents."""
        from .domain.log import signing, verification
        from .files.objectstore import store_of
        from .models import Call, LogEntry

        path = signing.key_path(current_app.config, current_app.instance_path)
        if not path.exists():
            click.echo(f"検証失敗: 署名鍵 {path} がありません。", err=True)
            raise SystemExit(1)
        key = signing.load_key(path)
        if slug:
            calls = db_session.scalars(select(Call).where(Call.slug == slug)).all()
            if not calls:
                click.echo(f"検証失敗: 募集「{slug}」はありません。", err=True)
                raise SystemExit(1)
        else:
            with_log = select(LogEntry.call_id).distinct()
            calls = db_session.scalars(select(Call).where(Call.id.in_(with_log)).order_by(Call.id)).all()
        failed = 0
        for call in calls:
            report = verification.verify_call(db_session, call, key, store_of(current_app))
            if report.ok:
                click.echo(f"検証成功 / VERIFIED  {call.slug}: 記録 {report.entries}件、公表 {report.publications}版")
                continue
            failed += 1
            click.echo(f"検証失敗 / VERIFICATION FAILED  {call.slug}: 問題 {len(report.problems)}件")
            for problem in report.problems:
                click.echo(f"  - {problem}")
        if failed:
            raise SystemExit(1)
        if not calls:
            click.echo("検証する記録はありません。")

    @app.cli.command("worker")
    @click.option("--workers", type=int, default=None, help="並行して動かすスレッドの数（既定: JOB_WORKERS）")
    def worker(workers: int | None):
        """Run the job worker (publication, mail, the periodic sweep) until stopped."""
        import logging

        from .jobs.priority import lower_cpu_priority
        from .jobs.tasks import sweep_once

        # What the worker does goes to stderr (journalctl -u kyodo-worker).
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        huey = current_app.extensions["huey"]
        if huey.immediate:
            raise click.ClickException("JOB_QUEUE_URL=immediate ではワーカーは動きません。")
        click.echo(f"ジョブワーカーを起動します（{current_app.config['JOB_QUEUE_URL'].split('@')[-1]}）。")
        sweep_once(current_app._get_current_object(), huey)
        # Below the web workers in CPU priority: rendering a large call's PDFs
        # takes a core for minutes, and an applicant's autosave must not wait.
        try:
            policy = lower_cpu_priority(current_app.config["JOB_WORKER_NICE"],
                                        current_app.config["JOB_WORKER_CPU_POLICY"])
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"CPU の優先度: nice {current_app.config['JOB_WORKER_NICE']}、{policy}")
        # Redis hands a job over at once; a SQLite queue is polled, at most
        # a second apart (Huey's default lets the wait grow to ten seconds).
        consumer = huey.create_consumer(workers=workers or current_app.config["JOB_WORKERS"],
                                        worker_type="thread", periodic=True, check_worker_health=True,
                                        max_delay=1.0)
        consumer.run()

    @app.cli.command("publish-due")
    def publish_due():
        """Publish the results of calls whose scheduled time has passed (for cron)."""
        from .domain.results import publication
        from .domain.timeutil import now_utc
        from .mail import send_mail

        done = publication.publish_due(db_session, now_utc(), settings=publication.Settings.for_app(current_app),
                                       mailer=send_mail)
        db_session.commit()
        for call, refusal in done:
            if refusal:
                click.echo(f"公表できませんでした  {call.slug}: {refusal}", err=True)
            else:
                click.echo(f"公表しました  {call.slug}")
        if any(refusal for _call, refusal in done):
            raise SystemExit(1)
