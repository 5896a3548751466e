"""The applicant's whole journey through the test client, page by page:
register, confirm, fill in the profile, write, submit, download the receipt.
Shared by the security, PDF and property tests."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.domain.proposals.proposal_fields import DECLARATION_KEYS, REQUEST_CATEGORY
from portal.models import OutboxMessage, Proposal

from .conftest import csrf_token_from

PASSWORD = "kyodo-teian-2026"

PROFILE = {
    "name": "みなと見守りの会",
    "name_kana": "みなとみまもりのかい",
    "kind": "shimin_katsudo",
    "representative_title": "会長",
    "representative_name": "山田 花子",
    "contact_name": "佐藤 太郎",
    "contact_email": "",
    "postal_code": "１２３－４５６７",
    "address": "みなと市中央1-2-3",
    "phone": "0123-45-6789",
    "founded_on": "2015-04-01",
    "member_count": "12",
    "activity_fields": ["保健・医療・福祉"],
    "activity_record": "2015年から地域の見守り活動を続けています。",
    "website": "",
    "based_in_city": "y",
}


def proposal_form(token: str, version: int, **overrides) -> dict:
    data = {
        "csrf_token": token,
        "version": str(version),
        "title": "地域の茶の間づくり",
        "background": "高齢者の孤立が課題です。",
        "purpose": "誰もが立ち寄れる居場所をつくる。",
        "description": "毎週水曜に公民館で茶の間を開きます。",
        "place_and_target": "中央公民館／地域の高齢者",
        "expected_effects": "孤立の予防と見守りの輪の広がり。",
        "necessity": "市の広報と会場の協力が必要です。",
        "capability": "10年の活動実績があります。",
        "period_start": "2026-07-01",
        "period_end": "2027-02-28",
        "desired_forms": ["kyosai"],
        "related_department": "高齢福祉課",
        "role-0-item": "広報",
        "role-0-group": "チラシの作成と配布",
        "role-0-city": "市報への掲載",
        "income-0-category": REQUEST_CATEGORY,
        "income-0-amount": "200,000",
        "income-1-category": "自己資金",
        "income-1-amount": "50000",
        "expense-0-category": "消耗品費",
        "expense-0-amount": "250000",
        "action": "save",
    }
    data.update(overrides)
    return data


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


class Journey:
    """Walks the journey and keeps every response, labelled, for scanning."""

    def __init__(self, client, db, email: str = "journey@example.jp"):
        self.client = client
        self.db = db
        self.email = email
        self.pages: list[tuple[str, object]] = []

    def keep(self, label: str, response):
        self.pages.append((label, response))
        return response

    def get(self, label: str, path: str, **kwargs):
        return self.keep(label, self.client.get(path, **kwargs))

    def register_and_confirm(self):
        page = self.get("register", "/register")
        self.client.post("/register", data={"csrf_token": csrf_token_from(page.text), "email": self.email,
                                            "password": PASSWORD, "password_confirm": PASSWORD, "privacy": "y"})
        mail = self.db.scalar(select(OutboxMessage).where(OutboxMessage.recipient == self.email)
                              .order_by(OutboxMessage.id.desc()))
        link = re.search(r"http://localhost(/confirm/\S+)", mail.body).group(1)
        assert self.client.get(link).status_code == 302
        # Registering does not log in (a registered address gets the same answer); the password does.
        page = self.client.get("/login")
        response = self.client.post("/login", data={"csrf_token": csrf_token_from(page.text), "email": self.email,
                                                     "password": PASSWORD})
        assert response.status_code == 302, response.text[:500]

    def fill_profile(self, **overrides):
        page = self.get("profile", "/profile")
        data = {**PROFILE, **overrides, "csrf_token": csrf_token_from(page.text)}
        response = self.client.post("/profile", data=data)
        assert response.status_code == 302, response.text[:2000]
        self.upload_documents()

    def upload_documents(self):
        """規約・会則, 役員名簿 and 事業報告・決算書 through the real upload form."""
        import io

        from portal.files.samples import sample_pdf

        for purpose in ("rules", "officers", "annual_report"):
            token = csrf_token_from(self.client.get("/profile").text)
            response = self.client.post("/profile/documents", data={
                "csrf_token": token, "purpose": purpose,
                "file": (io.BytesIO(sample_pdf(f"document {purpose}")), f"{purpose}.pdf")},
                content_type="multipart/form-data")
            assert response.status_code == 302, response.text[:2000]

    def write_proposal(self, call_slug: str, **texts) -> int:
        self.get("dashboard", "/mypage")
        self.get("call", f"/calls/{call_slug}")
        page = self.get("new proposal", f"/calls/{call_slug}/propose")
        response = self.client.post(f"/calls/{call_slug}/propose", data={"csrf_token": csrf_token_from(page.text)})
        assert response.status_code == 302
        proposal_id = int(response.headers["Location"].split("/")[-2])
        editor = self.get("editor", f"/proposals/{proposal_id}/edit")
        data = proposal_form(csrf_token_from(editor.text), int(version_of(editor.text)), **texts)
        saved = self.client.post(f"/proposals/{proposal_id}/edit", data=data)
        assert saved.status_code == 302, saved.text[:2000]
        return proposal_id

    def submit(self, proposal_id: int):
        page = self.get("confirm", f"/proposals/{proposal_id}/confirm")
        assert "この内容で提出する" in page.text, page.text
        response = self.client.post(f"/proposals/{proposal_id}/submit", data={
            "csrf_token": csrf_token_from(page.text), "version": version_of(page.text),
            "declarations": list(DECLARATION_KEYS)})
        assert response.status_code == 302, response.text[:2000]
        self.get("receipt", response.headers["Location"])
        self.get("detail", f"/proposals/{proposal_id}")
        return self.db.get(Proposal, proposal_id)

    def receipt_pdf(self, proposal_id: int, revision: int = 1):
        response = self.client.get(f"/proposals/{proposal_id}/receipt/{revision}.pdf")
        assert response.status_code == 200
        return self.keep("receipt pdf", response)
