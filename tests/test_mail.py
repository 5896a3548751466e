"""Mail goes through a real SMTP conversation when MAIL_SERVER is set."""
from __future__ import annotations

import email
import socketserver
import threading
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from portal.mail import deliver, send_mail
from portal.models import OutboxMessage, utcnow


class RecordingSMTPHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: greets, accepts, records DATA."""

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 test-smtp ready")
        while True:
            line = self.rfile.readline().decode(errors="replace").strip()
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test-smtp")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.server.envelope.append(line)
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk)
                self.server.messages.append(b"".join(data))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture()
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), RecordingSMTPHandler)
    server.daemon_threads = True
    server.messages, server.envelope = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture()
def smtp_config(app):
    """``use(host, port)`` points the app at an SMTP server for this test."""
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS")}

    def use(host, port):
        app.config.update(MAIL_SERVER=host, MAIL_PORT=port, MAIL_USE_TLS=False)

    yield use
    app.config.update(saved)


def fresh(db, record_id):
    db.expire_all()  # delivery wrote through its own session
    return db.scalar(select(OutboxMessage).where(OutboxMessage.id == record_id))


def test_mail_is_sent_after_the_commit_and_its_body_not_kept(app, db, smtp_server, smtp_config):
    smtp_config(*smtp_server.server_address)
    with app.test_request_context():
        record = send_mail("npo@example.jp", "【みなと市】受付のお知らせ", "受付番号 R8-01-0001 を受け付けました。")
        record_id = record.id
        assert smtp_server.messages == []  # nothing leaves inside the transaction
        db.commit()
    assert len(smtp_server.messages) == 1
    message = email.message_from_bytes(smtp_server.messages[0], policy=policy.default)
    assert message["To"] == "npo@example.jp"
    assert message["Subject"] == "【みなと市】受付のお知らせ"
    assert message["Message-ID"].startswith(f"<outbox.{record_id}.")
    assert "R8-01-0001" in message.get_content()
    assert any("npo@example.jp" in line for line in smtp_server.envelope)
    stored = fresh(db, record_id)
    assert stored.sent_at is not None and stored.body == "" and stored.attempts == 1


def test_a_rolled_back_change_sends_no_mail(app, db, smtp_server, smtp_config):
    smtp_config(*smtp_server.server_address)
    with app.test_request_context():
        send_mail("npo@example.jp", "件名", "本文")
        db.rollback()
    assert smtp_server.messages == []


def test_unreachable_smtp_keeps_the_message_and_retries_later(app, db, smtp_server, smtp_config):
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    smtp_config("127.0.0.1", 9)
    with app.test_request_context():
        record_id = send_mail("npo@example.jp", "件名", "本文").id
        db.commit()
    stored = fresh(db, record_id)
    assert stored.sent_at is None and stored.failed_at is None
    assert stored.error and stored.body == "本文" and stored.attempts == 1
    assert stored.next_attempt_at > utcnow() + timedelta(seconds=20)  # the first retry waits
    with app.app_context():
        assert deliver(record_id) is None  # not due yet: nothing is tried
    assert fresh(db, record_id).attempts == 1

    # The mail server is back and the retry is due: it is delivered.
    smtp_config(*smtp_server.server_address)
    stored = fresh(db, record_id)  # the app context above ended the session it came from
    stored.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.commit()
    with app.app_context():
        deliver(record_id)
    stored = fresh(db, record_id)
    assert stored.sent_at is not None and stored.attempts == 2 and stored.body == ""
    assert len(smtp_server.messages) == 1


def test_a_mail_that_keeps_failing_is_given_up_after_the_last_try(app, db, smtp_config):
    smtp_config("127.0.0.1", 9)
    with app.test_request_context():
        record_id = send_mail("npo@example.jp", "件名", "本文").id
        db.commit()
    delays = []
    with app.app_context():
        for _ in range(app.config["MAIL_MAX_ATTEMPTS"] - 1):
            stored = fresh(db, record_id)
            stored.next_attempt_at = utcnow() - timedelta(seconds=1)
            db.commit()
            delays.append(deliver(record_id))
    stored = fresh(db, record_id)
    assert stored.failed_at is not None and stored.sent_at is None
    assert stored.attempts == app.config["MAIL_MAX_ATTEMPTS"]
    assert delays[-1] is None and all(delays[:-1])
    assert delays[1] > delays[0]  # the waits grow


def test_development_mail_lands_in_the_outbox_page(client, db, app):
    with app.test_request_context():
        send_mail("group@example.jp", "確認のお願い", "リンク: http://localhost/confirm/abc")
        db.commit()
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    assert "確認のお願い" in page.text and "http://localhost/confirm/abc" in page.text
