"""Mail goes through a real SMTP conversation when MAIL_SERVER is set."""
from __future__ import annotations

import email
import socketserver
import threading
from email import policy

import pytest
from sqlalchemy import select

from portal.mail import send_mail
from portal.models import OutboxMessage


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


def test_mail_is_sent_over_smtp_and_body_not_kept(app, db, smtp_server):
    host, port = smtp_server.server_address
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS")}
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port, MAIL_USE_TLS=False)
    try:
        with app.test_request_context():
            record = send_mail("npo@example.jp", "【みなと市】受付のお知らせ", "受付番号 R8-01-0001 を受け付けました。")
            record_id = record.id
            db.commit()
    finally:
        app.config.update(saved)
    assert len(smtp_server.messages) == 1
    message = email.message_from_bytes(smtp_server.messages[0], policy=policy.default)
    assert message["To"] == "npo@example.jp"
    assert message["Subject"] == "【みなと市】受付のお知らせ"
    assert "R8-01-0001" in message.get_content()
    assert any("npo@example.jp" in line for line in smtp_server.envelope)
    stored = db.scalar(select(OutboxMessage).where(OutboxMessage.id == record_id))
    assert stored.sent_at is not None and stored.body == ""


def test_unreachable_smtp_keeps_the_message_and_the_error(app, db):
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS")}
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_USE_TLS=False)
    try:
        with app.test_request_context():
            record = send_mail("npo@example.jp", "件名", "本文")
    finally:
        app.config.update(saved)
    assert record.sent_at is None
    assert record.error and record.body == "本文"


def test_development_mail_lands_in_the_outbox_page(client, db, app):
    with app.test_request_context():
        send_mail("group@example.jp", "確認のお願い", "リンク: http://localhost/confirm/abc")
        db.commit()
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    assert "確認のお願い" in page.text and "http://localhost/confirm/abc" in page.text
