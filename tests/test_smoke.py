def test_home_page_lists_open_calls(client, factory):
    call = factory.call(title="令和8年度 協働モデル事業（テスト）")
    response = client.get("/")
    assert response.status_code == 200
    assert "令和8年度 協働モデル事業（テスト）" in response.get_data(as_text=True)


def test_call_page_shows_criteria_and_weights(client, factory):
    call = factory.call()
    html = client.get(f"/calls/{call.slug}").get_data(as_text=True)
    assert "公益性" in html and "×2" in html and "優れている" in html
    assert "300,000円" in html
