"""Friendly Japanese error pages; nothing leaks a traceback."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("リクエストを処理できませんでした", "入力内容を確認して、もう一度お試しください。"),
    403: ("このページを表示する権限がありません", "ログインしているアカウントを確認してください。"),
    404: ("ページが見つかりません", "URLが正しいか確認してください。"),
    405: ("この操作はできません", "画面のボタンから操作してください。"),
    409: ("他の操作と重なりました", "最新の内容を読み込んでから、もう一度お試しください。"),
    413: (
        "ファイルが大きすぎます",
        "送信できる大きさを超えています。ファイルを小さくするか、分けて送ってください。入力済みの内容は保存されています。",
    ),
    429: ("しばらく時間をおいてください", "短い時間に多くの操作がありました。少し待ってからもう一度お試しください。"),
    500: ("システムで問題が発生しました", "入力内容は失われていません。時間をおいてもう一度お試しください。"),
}


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[400])
    if wants_json():
        return jsonify(error=title, message=detail or message), code
    return render_template("error.html", code=code, title=title, message=detail or message), code


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            "画面の有効期限が切れたか、不正な送信の可能性があります。ページを再読み込みしてからもう一度送信してください。",
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        code = error.code or 500
        detail = error.description if getattr(error, "portal_message", False) else None
        return render_error(code if code in MESSAGES else 400, detail)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        app.logger.exception("unhandled error")
        return render_error(500)


class PortalRefusal(HTTPException):
    """An HTTP refusal whose Japanese message is shown to the user as is."""

    portal_message = True

    def __init__(self, code: int, message: str):
        super().__init__(description=message)
        self.code = code


def refuse(code: int, message: str):
    raise PortalRefusal(code, message)
