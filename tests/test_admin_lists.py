"""The secretariat's long lists at 300 proposals: intake and results with
search, a status filter, sort and bounded pages, in the same number of
queries whatever the size; a URL typed by hand is a Japanese message,
never a 500."""
from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from portal.admin import list_params

from . import results_support
from .test_query_counts import group_name, intake_world, measure, sign_in


def rows_on(page: str) -> int:
    return page.count('class="check-ok"') + page.count('class="check-ng"')


@pytest.mark.parametrize(("args", "expected", "message"), [
    ({}, ("", "", "a", 1, 50), None),
    ({"status": "x", "sort": "b", "page": "３", "per_page": "100"}, ("", "", "b", 3, 100), "状況の絞り込み"),
    ({"sort": "zzz"}, ("", "", "a", 1, 50), "並べ順が一覧にない値"),
    ({"per_page": "100000"}, ("", "", "a", 1, 50), "1ページの件数は25・50・100件から"),
    ({"page": "-1"}, ("", "", "a", 1, 50), "ページの番号が正しくない"),
    ({"q": "ｍｉｎａｔｏ" + "あ" * 200}, ("minato" + "あ" * 94, "", "a", 1, 50), "100字まで"),
])
def test_what_a_url_asks_for_is_read_safely(args, expected, message):
    params = list_params.read(MultiDict(args), statuses={"y": "Y"}, sorts={"a": "A", "b": "B"})
    assert (params.q, params.status, params.sort, params.page, params.per_page) == expected
    assert (message is None and params.messages == []) or any(message in m for m in params.messages)
    page = list_params.paginate(params, 120)
    assert 1 <= page.number <= page.pages and page.size in list_params.PAGE_SIZES


def test_a_page_past_the_last_shows_the_last():
    params = list_params.read(MultiDict({"page": "9"}), statuses={}, sorts={"a": "A"})
    page = list_params.paginate(params, 120)
    assert (page.number, page.pages, page.first, page.last) == (3, 3, 101, 120)
    assert "最後のページ" in params.messages[-1]


def test_the_intake_list_of_300_searches_filters_sorts_and_pages_in_fixed_queries(app, seed, count_queries):
    with seed() as f:
        (small_call, _), (large_call, tag) = intake_world(f, 10), intake_world(f, 300)
        client = sign_in(app, f.staff().email)
    base = f"/admin/calls/{large_call}/intake"
    counts = {}
    for path in (f"/admin/calls/{small_call}/intake", base, f"{base}?page=4&per_page=25",
                 f"{base}?status=waiting&sort=group", f"{base}?q={group_name(tag, 150)}"):
        counts[path], page, _ = measure(client, count_queries, path)
        assert "条件に合う提案はありません" not in page or "q=" in path
    assert len(set(counts.values())) == 1, counts

    first = measure(client, count_queries, base)[1]
    assert "提出された提案（300件）" in first and rows_on(first) == 50
    assert "提出された提案 300件のうち、1〜50件目を表示しています。" in first
    assert 'aria-current="page">1<' in first and 'rel="next"' in first
    fourth = measure(client, count_queries, f"{base}?page=4&per_page=25")[1]
    assert rows_on(fourth) == 25 and "76〜100件目" in fourth
    # Bounded: asking for 1,000 rows gives the default page and says why.
    bounded = measure(client, count_queries, f"{base}?per_page=1000")[1]
    assert rows_on(bounded) == 50 and "1ページの件数は25・50・100件から選んでください" in bounded
    found = measure(client, count_queries, f"{base}?q={group_name(tag, 150)}")[1]
    assert rows_on(found) == 1 and group_name(tag, 150) in found
    waiting = measure(client, count_queries, f"{base}?status=waiting")[1]
    shown = re.search(r"条件に合う提案 (\d+)件", waiting)
    assert shown and 0 < int(shown.group(1)) < 300
    assert "受付確認中" in waiting or "提出済" in waiting
    assert "差し戻し" not in re.sub(r"<select.*?</select>", "", waiting, flags=re.S).split("<tbody>")[1]


def test_the_results_list_filters_pages_and_costs_the_same_queries(client, login, db, factory, count_queries):
    small = results_support.build(factory, reviewers=2, proposals=3)
    large = results_support.build(factory, reviewers=2, proposals=30)
    for s in (small, large):
        for p in range(2):
            results_support.score(db, s, 0, p, [4, 4, 4, 4, 4])
            results_support.score(db, s, 1, p, [3, 3, 3, 3, 3])
        results_support.close_scoring(db, s)
    login(factory.staff())
    counts = []
    for s in (small, large):
        client.get(f"/admin/calls/{s.call.id}/results")
        with count_queries() as counter:
            page = client.get(f"/admin/calls/{s.call.id}/results?per_page=25&page=2").text
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    # 30 proposals, 25 a page: the second page has the last 5, in rank order.
    assert "審査した提案 30件のうち、26〜30件目を表示しています。" in page
    base = f"/admin/calls/{large.call.id}/results"
    under = client.get(f"{base}?status=under_minimum").text
    assert "条件に合う提案 28件" in under
    assert large.code(0) not in under.split('id="raw-heading"')[1].split("</table>")[0]
    recommended = client.get(f"{base}?status=recommended&sort=code").text
    assert "条件に合う提案 2件" in recommended
    searched = client.get(f"{base}?q={large.proposals[5].group.name}").text
    assert "条件に合う提案 1件" in searched and large.code(5) in searched
    odd = client.get(f"{base}?status=nonsense&per_page=7")
    assert odd.status_code == 200 and "状況の絞り込みが一覧にない値" in odd.text


def test_the_anonymisation_list_of_300_searches_filters_and_pages(app, seed, count_queries):
    """The anonymisation step lists the accepted and released proposals a
    bounded page at a time, with search and a status filter; the release
    checks run only for the page shown."""
    with seed() as f:
        call_id, tag = intake_world(f, 300)
        client = sign_in(app, f.staff().email)
    base = f"/admin/calls/{call_id}/anonymise"

    def listed(page: str) -> list[str]:
        body = page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""
        return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', body)

    first = measure(client, count_queries, base)[1]
    total = int(re.search(r"受理した提案 (\d+)件のうち、1〜50件目", first).group(1))
    assert total > 50 and len(listed(first)) == 50
    assert 'rel="next"' in first and "公開前のすべての提案を再スキャンする" in first
    rest = measure(client, count_queries, f"{base}?page=2")[1]
    assert len(listed(rest)) == total - 50 and not set(listed(rest)) & set(listed(first))
    released = measure(client, count_queries, f"{base}?status=released&per_page=25")[1]
    body = released.split("<tbody>")[1]
    assert 0 < len(listed(released)) <= 25 and body.count("公開済み（") == len(listed(released))
    accepted = measure(client, count_queries, f"{base}?status=accepted&per_page=100")[1]
    assert "公開済み（" not in accepted.split("<tbody>")[1]
    assert len(listed(accepted)) + int(re.search(r"条件に合う提案 (\d+)件", released).group(1)) == total
    nothing = measure(client, count_queries, f"{base}?q=存在しない団体名")[1]
    assert "条件に合う提案はありません。" in nothing and listed(nothing) == []
    # Bounded whatever the URL asks: a page of 1,000 is the default page, with the reason.
    bounded = measure(client, count_queries, f"{base}?per_page=1000")[1]
    assert len(listed(bounded)) == 50 and "1ページの件数は25・50・100件から選んでください" in bounded
