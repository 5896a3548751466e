"""Friendly Japanese error pages; nothing leaks a traceback."""
from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from .db import db_session
from .domain.refusals import Invalid, NotAllowed, NotFound, Refused, WrongState

MESSAGES = {
    400: ("リクエストを処理できませんでした", "入力内容を確認して、もう一度お試しください。"),
    401: ("ログインが必要です", "ログインの有効期限が切れたか、ログアウトしています。もう一度ログインしてください。"),
    403: ("このページを表示する権限がありません", "ログインしているアカウントを確認してください。"),
    404: ("ページが見つかりません", "URLが正しいか確認してください。"),
    405: ("この操作はできません", "画面のボタンから操作してください。"),
    409: ("他の操作と重なりました", "最新の内容を読み込んでから、もう一度お試しください。"),
    413: (
        "ファイルが大きすぎます",
        "送信できる大きさを超えています。ファイルを小さくするか、分けて送ってください。入力済みの内容は保存されています。",
    ),
    422: ("入力内容を受け付けられませんでした", "入力内容を確認して、もう一度お試しください。"),
    429: ("しばらく時間をおいてください", "短い時間に多くの操作がありました。少し待ってからもう一度お試しください。"),
    500: ("システムで問題が発生しました", "入力内容は失われていません。時間をおいてもう一度お試しください。"),
    503: ("ただいま混み合っています", "時間をおいてもう一度お試しください。"),
}

CSRF_MESSAGE = "画面の有効期限が切れたか、不正な送信の可能性があります。ページを再読み込みしてからもう一度送信してください。"

# How a domain refusal is answered; a plain ``Refused`` is a state conflict.
REFUSAL_STATUS = ((NotFound, 404), (NotAllowed, 403), (WrongState, 409), (Invalid, 422))

# Headers an HTTP error carries that the client needs (405 Allow, 416
# Content-Range, 429/503 Retry-After, 401 WWW-Authenticate).
_KEPT_HEADERS = ("Allow", "Content-Range", "Retry-After", "WWW-Authenticate")


def wants_json() -> bool:
    """Scripts (autosave) ask for JSON; browsers asking for */* get a page."""
    if request.is_json:
        return True
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", "application/json"])
    if best is not None:
        return best == "application/json"
    # Werkzeug matches parameters too: "application/json; charset=utf-8" matches nothing.
    return any(value.split(";", 1)[0].strip().lower() == "application/json" for value, quality in accept if quality)


def _messages_for(code: int) -> tuple[str, str]:
    if code in MESSAGES:
        return MESSAGES[code]
    return MESSAGES[500] if code >= 500 else MESSAGES[400]


def refusal_status(refusal: Refused) -> int:
    for kind, status in REFUSAL_STATUS:
        if isinstance(refusal, kind):
            return status
    return 409


def render_error(code: int, detail: str | None = None, headers: dict | None = None, *, field: str | None = None):
    """The error page, or ``{"ok": false, "error", "message"}`` for scripts
    (with ``field`` when a refusal names the input it concerns). The status
    code is kept as it is; unknown codes get the 4xx/5xx wording."""
    title, message = _messages_for(code)
    message = detail or message
    if wants_json():
        body = {"ok": False, "error": title, "message": message}
        if field:
            body["field"] = field
        response = jsonify(body)
    else:
        try:
            response = Response(render_template("error.html", code=code, title=title, message=message),
                                mimetype="text/html")
        except Exception:  # the page itself failed (e.g. the database is down)
            response = Response(_bare_page(code, title, message), mimetype="text/html")
    response.status_code = code
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _bare_page(code: int, title: str, message: str) -> str:
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
        f"<p>{escape(message)}</p><p>エラー番号: {code}</p><p><a href=\"/\">トップページへ戻る</a></p>"
        "</main></body></html>"
    )


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(Refused)
    def domain_refusal(refusal: Refused):
        # Routes let refusals rise: nothing was committed (the boundary
        # commits only below 400), and the person reads the domain's words.
        return render_error(refusal_status(refusal), refusal.message, field=refusal.field)

    @app.errorhandler(HTTPException)
    def http_error(error):
        code = error.code or 500
        detail = error.description if getattr(error, "portal_message", False) else None
        kept = {name: value for name, value in error.get_headers() if name in _KEPT_HEADERS}
        return render_error(code, detail, kept)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        app.logger.exception("unhandled error")
        # A failed statement leaves the transaction unusable; the error page
        # (which may load the current user) needs a clean session.
        db_session.rollback()
        return render_error(500)


class PortalRefusal(HTTPException):
    """An HTTP refusal whose Japanese message is shown to the user as is."""

    portal_message = True

    def __init__(self, code: int, message: str):
        super().__init__(description=message)
        self.code = code


def refuse(code: int, message: str):
    raise PortalRefusal(code, message)
