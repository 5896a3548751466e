"""Property-based tests: whatever is typed or posted, the form handlers
answer without a 500 and in Japanese, and the parsing functions never raise.

Every handler is posted to with a valid CSRF token, so the handler's own
code runs (not just the CSRF refusal). Examples are kept few so the whole
unit suite stays fast; each run still tries new inputs.
"""
from __future__ import annotations

import os
import re
from itertools import count

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from portal.domain.normalize import (
    MAX_YEN,
    normalize_phone,
    normalize_postal_code,
    normalize_text,
    parse_yen,
)
from portal.domain.proposals.proposal_fields import DECLARATION_KEYS, EXPENSE_CATEGORIES, INCOME_CATEGORIES, TEXT_FIELDS
from portal.domain.proposals.proposal_input import parse_proposal_form
from portal.models import BudgetKind, CollaborationForm, Proposal, ProposalStatus

from .conftest import csrf_token_from
from .factories import Factory

IS_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")

HANDLER_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)
PURE_SETTINGS = settings(max_examples=300, deadline=None)

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# Inputs people (and robots) really send.
SPECIALS = [
    "", " ", "　", "\x00", "\r\n", "０１２３", "１２３－４５６７", "〒123-4567", "0123-45-6789", "２００，０００円",
    "-1", "1e9", "99999999999999999999", "9" * 5000, "NaN", "2015-02-30", "2026-13-01", "0001-01-01",
    "<script>alert(1)</script>", "' OR 1=1 --", "𐩀", "١٢٣", "١٢٣-٤٥٦٧", "0١٢٣-٤٥-٦٧٨٩", "ｶﾀｶﾅ", "🎌🗾", "a\u0301", "\ud7ff", "\uffff",
    "javascript:alert(1)", "//evil.example", "x@example.jp", "ＡＢＣ＠ＥＸＡＭＰＬＥ．ＪＰ", "İ" * 200, "ﷺ" * 20,
]
huge = st.builds(lambda ch, n: ch * n, st.sampled_from(["あ", "9", "<", "𐩀", "\n", "a"]),
                 st.integers(min_value=300, max_value=60_000))
text_value = st.one_of(st.text(max_size=40), st.sampled_from(SPECIALS), huge,
                       st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=400))
form_value = st.one_of(text_value, st.lists(text_value, min_size=2, max_size=4))

PROPOSAL_KEYS = (
    [f.key for f in TEXT_FIELDS]
    + ["period_start", "period_end", "desired_forms", "related_department", "version", "action", "declarations",
       "reason"]
    + [f"{kind}-{i}-{part}" for kind in ("income", "expense") for i in (0, 1, 39, 40, 999)
       for part in ("category", "amount", "note")]
    + [f"role-{i}-{part}" for i in (0, 1, 2) for part in ("item", "group", "city")]
    + ["income-𐩀-amount", "income-٣-amount", "expense--1-amount", "role-00-item", "income-0"]
)
ACCOUNT_KEYS = ["email", "password", "password_confirm", "privacy", "next"]
PROFILE_KEYS = ["name", "name_kana", "kind", "representative_title", "representative_name", "contact_name",
                "contact_email", "postal_code", "address", "phone", "founded_on", "member_count",
                "activity_fields", "activity_record", "website", "based_in_city"]


def form_data(known_keys):
    keys = st.one_of(st.sampled_from(known_keys), st.text(min_size=1, max_size=30))
    return st.dictionaries(keys, form_value, max_size=14)


def proposal_values():
    """Mostly plausible values for the proposal keys, with junk mixed in."""
    plausible = st.one_of(
        st.sampled_from(INCOME_CATEGORIES + EXPENSE_CATEGORIES),
        st.integers(min_value=-10, max_value=10 * MAX_YEN).map(str),
        st.integers(min_value=0, max_value=MAX_YEN).map(lambda n: f"{n:,}"),
        st.dates().map(str),
        st.sampled_from([form.value for form in CollaborationForm] + ["nope"] + list(DECLARATION_KEYS)),
        text_value,
    )
    return st.dictionaries(st.one_of(st.sampled_from(PROPOSAL_KEYS), st.text(min_size=1, max_size=20)),
                           st.one_of(plausible, st.lists(plausible, min_size=2, max_size=5)), max_size=30)


def assert_fine(response, path):
    """No 500, and a page or a JSON message a Japanese reader understands."""
    assert response.status_code < 500, (path, response.status_code, response.get_data(as_text=True)[:3000])
    if 300 <= response.status_code < 400:
        return
    if response.mimetype == "text/html":
        text = response.get_data(as_text=True)
        assert '<html lang="ja">' in text, path
        assert JAPANESE.search(text), path
    elif response.mimetype == "application/json":
        body = response.json
        if body.get("ok") is False:
            assert JAPANESE.search(body["message"]), (path, body)
    else:
        pytest.fail(f"{path}: unexpected {response.mimetype}")


def post(client, path, data, token, **kwargs):
    payload = MultiDict()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            payload.add(key, item)
    payload.setlist("csrf_token", [token])
    return client.post(path, data=payload, **kwargs)


_addresses = count(1)


def next_address() -> str:
    n = next(_addresses)
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


# --- account forms, logged out -----------------------------------------------------------

@pytest.mark.parametrize("path", ["/register", "/login", "/password/forgot"])
def test_account_forms_survive_anything(app, db, path):
    @HANDLER_SETTINGS
    @given(data=form_data(ACCOUNT_KEYS))
    @example(data={"email": "ok@example.jp", "password": "x" * 10_000, "password_confirm": "x" * 10_000,
                   "privacy": "y"})
    @example(data={"email": "\x00@example.jp", "password": "\x00" * 12, "privacy": "y"})
    @example(data={"email": ["a@example.jp", "b@example.jp"], "password": ["p1", "p2"]})
    def run(data):
        client = app.test_client()
        environ = {"REMOTE_ADDR": next_address()}
        token = csrf_token_from(client.get(path, environ_base=environ).text)
        assert_fine(post(client, path, data, token, environ_base=environ), path)

    run()


def test_login_next_survives_anything(app, db, seed):
    with seed() as f:
        email = f.applicant().email

    @HANDLER_SETTINGS
    @given(target=text_value)
    def run(target):
        client = app.test_client()
        token = csrf_token_from(client.get("/login").text)
        response = client.post("/login", query_string={"next": target},
                               data={"csrf_token": token, "email": email, "password": Factory.PASSWORD})
        assert response.status_code == 302
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith("//") and "\\" not in location

    run()


# --- the applicant's forms, logged in -------------------------------------------------------

@pytest.fixture()
def applicant_client(client, db, seed, login):
    """A logged-in applicant with a draft (incomplete) and the ids to post to."""
    with seed() as f:
        user = f.applicant()
        call = f.call()
        draft = f.proposal(user, call, complete=False)
        ids = {"user": user, "call": call.id, "draft": draft.id}
    login(ids["user"])
    return client, ids


def current_version(db, proposal_id) -> str:
    db.expire_all()
    return str(db.get(Proposal, proposal_id).version)


def test_profile_survives_anything(applicant_client, db):
    client, _ids = applicant_client
    token = csrf_token_from(client.get("/profile").text)

    @HANDLER_SETTINGS
    @given(data=form_data(PROFILE_KEYS))
    @example(data={"member_count": "9" * 5000, "founded_on": "9999-99-99", "postal_code": "𐩀" * 7})
    @example(data={"name": "あ" * 121, "website": "https://" + "a" * 400, "kind": ["npo", "chien"]})
    @example(data={"activity_fields": ["まちづくり", "nope", "まちづくり"], "based_in_city": ["y", ""]})
    def run(data):
        assert_fine(post(client, "/profile", data, token), "/profile")

    run()


@pytest.mark.parametrize("endpoint", ["edit", "autosave"])
def test_proposal_editing_survives_anything(applicant_client, db, endpoint):
    client, ids = applicant_client
    pid = ids["draft"]
    token = csrf_token_from(client.get(f"/proposals/{pid}/edit").text)
    path = f"/proposals/{pid}/{endpoint}"
    headers = {"Accept": "application/json"} if endpoint == "autosave" else {}

    @HANDLER_SETTINGS
    @given(data=proposal_values(), keep_version=st.booleans())
    @example(data={"title": "題" * 500, "income-0-category": INCOME_CATEGORIES[0],
                   "income-0-amount": "999999999999"}, keep_version=True)
    @example(data={f"income-{i}-amount": str(MAX_YEN) for i in range(40)}
             | {f"income-{i}-category": INCOME_CATEGORIES[0] for i in range(40)}, keep_version=True)
    @example(data={"income-𐩀-amount": "1", "expense-0-amount": "𐩀"}, keep_version=True)
    @example(data={"background": "\x00" * 10, "action": "add_role_row"}, keep_version=True)
    def run(data, keep_version):
        if keep_version or "version" not in data:
            data = {**data, "version": current_version(db, pid)}
        assert_fine(post(client, path, data, token, headers=headers), path)

    run()
    # Whatever was posted, what is stored fits the columns.
    db.expire_all()
    proposal = db.get(Proposal, pid)
    assert len(proposal.title) <= Proposal.__table__.c.title.type.length
    for kind in BudgetKind:
        assert sum(b.amount for b in proposal.budget_lines if b.kind == kind) <= MAX_YEN


def test_submit_survives_anything(applicant_client, db):
    client, ids = applicant_client
    pid = ids["draft"]
    token = csrf_token_from(client.get(f"/proposals/{pid}/confirm").text)

    @HANDLER_SETTINGS
    @given(data=proposal_values(), keep_version=st.booleans())
    @example(data={"declarations": list(DECLARATION_KEYS)}, keep_version=True)
    @example(data={"declarations": list(DECLARATION_KEYS) * 3 + ["nope"]}, keep_version=False)
    def run(data, keep_version):
        if keep_version:
            data = {**data, "version": current_version(db, pid)}
        assert_fine(post(client, f"/proposals/{pid}/submit", data, token), "submit")

    run()
    db.expire_all()
    assert db.get(Proposal, pid).status == ProposalStatus.DRAFT, "an incomplete proposal is never submitted"


def test_withdraw_survives_anything(applicant_client, db, seed):
    client, ids = applicant_client
    token = csrf_token_from(client.get("/profile").text)

    @HANDLER_SETTINGS
    @given(data=form_data(["reason", "version", "action"]))
    @example(data={"reason": "理由" * 1000})
    @example(data={"reason": ["一つ目", "二つ目"]})
    def run(data):
        if IS_POSTGRES:
            # A NUL byte in the reason is a known 500 on PostgreSQL, pinned by
            # test_withdraw_reason_with_a_nul_byte below; keep this test about
            # everything else.
            data = {k: ([x.replace("\x00", "") for x in v] if isinstance(v, list) else v.replace("\x00", ""))
                    for k, v in data.items()}
        with seed() as f:
            pid = _submitted(f, ids)
        response = post(client, f"/proposals/{pid}/withdraw", data, token)
        assert_fine(response, "withdraw")
        assert response.status_code == 302
        db.expire_all()
        assert db.get(Proposal, pid).status == ProposalStatus.WITHDRAWN

    run()


def _submitted(f, ids) -> int:
    from portal.models import Call, User

    user = f.session.get(User, ids["user"].id)
    call = f.session.get(Call, ids["call"])
    return f.proposal(user, call, status=ProposalStatus.SUBMITTED).id


def test_withdraw_reason_with_a_nul_byte(applicant_client, db, seed):
    client, ids = applicant_client
    with seed() as f:
        pid = _submitted(f, ids)
    token = csrf_token_from(client.get(f"/proposals/{pid}/withdraw").text)
    response = client.post(f"/proposals/{pid}/withdraw", data={"csrf_token": token, "reason": "都合\x00により"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Proposal, pid).status == ProposalStatus.WITHDRAWN


def test_a_request_too_large_gets_the_japanese_413_page(applicant_client, db):
    client, ids = applicant_client
    pid = ids["draft"]
    token = csrf_token_from(client.get(f"/proposals/{pid}/edit").text)
    # Over MAX_CONTENT_LENGTH (urlencoded forms are bounded by nothing smaller).
    too_big = client.application.config["MAX_CONTENT_LENGTH"] + 1
    response = client.post(f"/proposals/{pid}/edit", data={"csrf_token": token, "version": "1",
                                                           "background": "a" * too_big})
    assert response.status_code == 413
    assert_fine(response, "413")


# --- pure functions ---------------------------------------------------------------------------

@PURE_SETTINGS
@given(st.one_of(st.text(), st.sampled_from(SPECIALS),
                 st.from_regex(r"〒?[0-9０-９]{3}[-－ー‐ ]?[0-9０-９]{4}", fullmatch=True)))
def test_normalize_postal_code_is_total_ascii_and_idempotent(value):
    result = normalize_postal_code(value)
    if result is not None:
        assert re.fullmatch(r"[0-9]{3}-[0-9]{4}", result)
        assert normalize_postal_code(result) == result


@PURE_SETTINGS
@given(st.from_regex(r"[0-9]{3}-?[0-9]{4}", fullmatch=True))
def test_every_real_postal_code_is_accepted(value):
    digits = value.replace("-", "")
    assert normalize_postal_code(value) == f"{digits[:3]}-{digits[3:]}"
    wide = value.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    assert normalize_postal_code("〒" + wide) == f"{digits[:3]}-{digits[3:]}"


@PURE_SETTINGS
@given(st.one_of(st.text(), st.sampled_from(SPECIALS),
                 st.from_regex(r"0[0-9０-９]{1,4}[-－(（]?[0-9０-９]{1,4}[-－)）]?[0-9０-９]{3,4}", fullmatch=True)))
def test_normalize_phone_is_total_ascii_and_idempotent(value):
    result = normalize_phone(value)
    if result is not None:
        assert re.fullmatch(r"0[0-9-]+", result)
        assert len(result.replace("-", "")) in (10, 11)
        assert normalize_phone(result) == result


@PURE_SETTINGS
@given(st.one_of(st.text(), st.sampled_from(SPECIALS), st.integers(), st.none(),
                 st.integers(min_value=-5, max_value=10**13).map(lambda n: f"{n:,}円")))
def test_parse_yen_is_total_and_in_range(value):
    result = parse_yen(value)
    assert result is None or (isinstance(result, int) and 0 <= result <= MAX_YEN)


@PURE_SETTINGS
@given(st.integers(min_value=0, max_value=MAX_YEN))
def test_parse_yen_reads_what_people_write(amount):
    assert parse_yen(str(amount)) == amount
    assert parse_yen(f"{amount:,}円") == amount
    wide = f"{amount:,}".translate(str.maketrans("0123456789,", "０１２３４５６７８９，"))
    assert parse_yen(wide) == amount
    assert parse_yen(str(amount + MAX_YEN + 1)) is None


@PURE_SETTINGS
@given(st.text())
def test_normalize_text_is_idempotent_and_drops_nul(value):
    once = normalize_text(value)
    assert "\x00" not in once and "\r" not in once
    assert normalize_text(once) == once


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
@given(proposal_values())
@example({"title": "題" * 500})
@example({"income-𐩀-amount": "1", "income-٣-category": "自己資金"})
@example({f"income-{i}-amount": str(MAX_YEN) for i in range(40)}
         | {f"income-{i}-category": INCOME_CATEGORIES[1] for i in range(40)})
def test_parse_proposal_form_never_raises_and_fits_the_columns(data):
    formdata = MultiDict()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            formdata.add(key, item)
    parsed = parse_proposal_form(formdata)
    for key, value in parsed.texts.items():
        column = Proposal.__table__.c[key].type
        assert len(value) <= (getattr(column, "length", None) or 20000)
        assert "\x00" not in value
    for kind in BudgetKind:
        amounts = [row.amount or 0 for row in parsed.budget_rows if row.kind == kind]
        assert sum(amounts) <= MAX_YEN
    assert all(0 <= (row.amount or 0) <= MAX_YEN for row in parsed.budget_rows)
    assert set(parsed.desired_forms) <= {form.value for form in CollaborationForm}
    assert len(parsed.desired_forms) == len(set(parsed.desired_forms))


@pytest.mark.parametrize("path", [
    pytest.param("/proposals/2147483647", id="largest-32-bit"),
    pytest.param("/proposals/2147483648", id="beyond-32-bit"),
    pytest.param("/proposals/2147483648/confirm", id="confirm-beyond-32-bit"),
    pytest.param("/proposals/2147483648/receipt/1.pdf", id="pdf-beyond-32-bit"),
    pytest.param("/proposals/99999999999999999999/edit", id="beyond-64-bit"),
])
def test_out_of_range_ids_are_404_not_500(applicant_client, path):
    client, _ids = applicant_client
    response = client.get(path)
    assert response.status_code == 404
    assert_fine(response, path)
