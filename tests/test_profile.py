"""団体概要: what people type is normalised, and every message is Japanese."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.models import Group, GroupKind

from .conftest import csrf_token_from
from .journey import PROFILE
from .test_auth import field_error


@pytest.fixture()
def profile_client(client, seed, login):
    with seed() as f:
        user = f.applicant(complete_profile=False)
    login(user)
    return client, user.id


def post_profile(client, **overrides):
    token = csrf_token_from(client.get("/profile").text)
    return client.post("/profile", data={**PROFILE, **overrides, "csrf_token": token})


def group_of(db, user_id) -> Group:
    db.expire_all()
    return db.scalar(select(Group).where(Group.account_id == user_id))


def test_profile_saves_normalised_values(profile_client, db):
    client, user_id = profile_client
    response = post_profile(client, postal_code="〒１２３ー４５６７", phone="０１２３（４５）６７８９",
                            founded_on="２０１５年４月１日", member_count="１，２００人")
    assert response.status_code == 302
    group = group_of(db, user_id)
    assert group.postal_code == "123-4567"
    assert group.phone == "0123-45-6789"
    assert group.founded_on == date(2015, 4, 1)
    assert group.member_count == 1200
    assert group.kind == GroupKind.SHIMIN_KATSUDO
    assert group.activity_fields == ["保健・医療・福祉"]


@pytest.mark.parametrize("typed", ["2015-04-01", "2015/4/1", "2015.04.01", "２０１５－０４－０１", "2015年4月1日"])
def test_dates_are_read_as_people_write_them(profile_client, db, typed):
    client, user_id = profile_client
    assert post_profile(client, founded_on=typed).status_code == 302
    assert group_of(db, user_id).founded_on == date(2015, 4, 1)


@pytest.mark.parametrize("field, typed, message", [
    ("founded_on", "いつか", "日付を「2015-04-01」の形で入力してください。"),
    ("founded_on", "2015-02-30", "日付を「2015-04-01」の形で入力してください。"),
    ("founded_on", "0001-01-01", "日付を「2015-04-01」の形で入力してください。"),
    ("founded_on", "2999-01-01", "設立年月日に未来の日付は入力できません。"),
    ("member_count", "たくさん", "数字で入力してください（例: 12）。"),
    ("member_count", "1_000", "数字で入力してください（例: 12）。"),
    ("member_count", "𐩀", "数字で入力してください（例: 12）。"),
    ("member_count", "0", "1以上の人数を入力してください。"),
    ("member_count", "99999999999", "数が大きすぎます。"),
    ("kind", "unknown", "一覧から選んでください。"),
    ("postal_code", "١٢٣٤٥٦٧", "郵便番号は7桁の数字で入力してください（例: 123-4567）。"),
    ("phone", "12", "電話番号は0から始まる10桁又は11桁で入力してください（例: 0123-45-6789）。"),
    ("website", "ftp://example.jp", "ウェブサイトは https:// から始まるURLで入力してください。"),
])
def test_one_japanese_message_next_to_the_field_and_the_typed_value_kept(profile_client, db, field, typed,
                                                                         message):
    client, user_id = profile_client
    response = post_profile(client, **{field: typed})
    assert response.status_code == 422
    assert field_error(response.text, field) == message  # exactly one message, no English
    if field != "kind":
        assert f'value="{typed}"' in response.text
    assert group_of(db, user_id).name == ""  # nothing saved
