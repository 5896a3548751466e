"""The object store: the same behaviour on the local disk and on a real
S3-compatible server (moto's, tests/object_store.py); the store follows the
database (a rolled-back write is removed, a deletion waits for the commit);
only generated names; uploads and downloads through the app on S3; and the
local default still keeps files under UPLOAD_DIR/files."""
from __future__ import annotations

import socket
import uuid

import pytest

from portal.files import storage
from portal.files.objectstore import LocalStore, S3Store, StoreUnavailable, current_store, store_from_config
from portal.files.sanitize import sanitize
from portal.models import FilePurpose

from .conftest import csrf_token_from
from .object_store import new_prefix
from .test_files import applicant_with_draft, attachments_of, jpeg_with_exif, pdf_with_metadata, upload  # noqa: F401

BAD_NAMES = ["../x", "..", "", "x", "0" * 31, "0" * 33, "A" * 32, f"../{'0' * 32}", f"{'0' * 32}/",
             f"files/{'0' * 32}", f"{'0' * 32}.pdf", "/etc/passwd", f"{'0' * 30}/.", "%2e%2e%2fx", f"{'0' * 32}\n"]


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "uploads")
    return request.getfixturevalue("s3_server").store()


def name() -> str:
    return uuid.uuid4().hex


# --- the interface, on both stores -------------------------------------------------------

def test_put_get_exists_delete(store):
    first = name()
    assert store.get(first) is None and not store.exists(first)
    store.put(first, b"%PDF-1.7 first")
    assert store.get(first) == b"%PDF-1.7 first"
    assert store.exists(first)
    assert list(store.names()) == [first]
    store.put(first, b"replaced")  # whole, never appended
    assert store.get(first) == b"replaced"
    store.delete(first)
    assert store.get(first) is None and not store.exists(first)
    assert list(store.names()) == []
    store.delete(first)  # deleting what is not there is not an error


def test_empty_and_binary_objects_come_back_byte_for_byte(store):
    empty, binary = name(), name()
    data = bytes(range(256)) * 1000
    store.put(empty, b"")
    store.put(binary, data)
    assert store.get(empty) == b"" and store.exists(empty)
    assert store.get(binary) == data
    assert sorted(store.names()) == sorted([empty, binary])


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_only_generated_names_reach_the_store(store, bad):
    for action in (lambda: store.put(bad, b"x"), lambda: store.get(bad), lambda: store.delete(bad),
                   lambda: store.exists(bad)):
        with pytest.raises(ValueError):
            action()
    assert list(store.names()) == []
    assert storage.read_bytes(store, bad) is None  # a row pointing nowhere reads as missing


def test_a_traversing_name_writes_nothing_outside_the_local_root(tmp_path):
    store = LocalStore(tmp_path / "root")
    with pytest.raises(ValueError):
        store.put("../../escaped", b"x")
    assert sorted(p.name for p in tmp_path.rglob("*")) == []


def test_a_rolled_back_write_is_removed(store, db):
    written = storage.write_generated(db, store, b"reviewer copy")
    assert store.get(written) == b"reviewer copy"
    db.rollback()
    assert not store.exists(written)


def test_a_committed_write_stays(store, db):
    written = storage.write_generated(db, store, b"results pdf")
    db.commit()
    db.rollback()  # a later rollback does not undo the earlier commit
    assert store.get(written) == b"results pdf"


def test_a_deletion_waits_for_the_commit(store, db, factory):
    group_id = factory.applicant().group.id
    stored = storage.store_file(db, store, sanitize(jpeg_with_exif(), "a.jpg"), original_name="a.jpg",
                                purpose=FilePurpose.RULES, group_id=group_id)
    db.commit()
    kept = stored.storage_name

    storage.delete_file(db, store, stored)
    assert store.exists(kept)
    db.rollback()  # the deletion is undone: the row and its object are both still there
    assert store.exists(kept)

    storage.delete_file(db, store, db.merge(stored))
    assert store.exists(kept)  # nothing is removed before the commit
    db.commit()
    assert not store.exists(kept)


def test_an_unreachable_s3_server_is_an_os_error_not_a_hang(store):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket is closed
    unreachable = S3Store("portal-test", endpoint_url=f"http://127.0.0.1:{port}", region="ap-northeast-1",
                          access_key_id="testing", secret_access_key="testing", connect_timeout=1, max_attempts=1)
    with pytest.raises(StoreUnavailable) as raised:
        unreachable.put(name(), b"x")
    assert isinstance(raised.value, OSError)


# --- choosing the store -------------------------------------------------------------------

def test_the_local_default_keeps_files_under_upload_dir_files(tmp_path):
    store = store_from_config({"UPLOAD_DIR": tmp_path, "OBJECT_STORE_URL": ""})
    assert isinstance(store, LocalStore)
    kept = name()
    store.put(kept, b"data")
    assert (tmp_path / "files" / kept).read_bytes() == b"data"
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == [kept]  # no temporary file left
    assert isinstance(store_from_config({"UPLOAD_DIR": tmp_path}), LocalStore)


def test_a_testing_app_without_settings_uses_the_local_disk(tmp_path):
    from portal import create_app

    local = create_app("testing", {"DATABASE_URL": "sqlite://", "UPLOAD_DIR": tmp_path, "OBJECT_STORE_URL": ""})
    try:
        assert isinstance(local.extensions["object_store"], LocalStore)
        assert local.extensions["object_store"].root == tmp_path
    finally:
        local.extensions["engine"].dispose()


def test_an_s3_url_chooses_the_s3_store_with_its_prefix(s3_server):
    prefix = new_prefix()
    store = store_from_config({"UPLOAD_DIR": "/nonexistent", **s3_server.overrides(f"{prefix}/nested/")})
    assert isinstance(store, S3Store) and store.bucket == s3_server.bucket
    assert store.prefix == f"{prefix}/nested/"
    kept = name()
    store.put(kept, b"data")
    assert s3_server.keys(prefix) == [f"{prefix}/nested/{kept}"]
    assert S3Store("bucket-name").prefix == "" and S3Store("bucket-name", prefix="/a/b/").prefix == "a/b/"


@pytest.mark.parametrize("url", ["http://example.jp/bucket", "s3://", "s3:///prefix", "file:///tmp/x",
                                 "s3://bucket/prefix?versionId=1"])
def test_an_unusable_object_store_url_stops_the_app(url, tmp_path):
    with pytest.raises(RuntimeError, match="OBJECT_STORE_URL"):
        store_from_config({"UPLOAD_DIR": tmp_path, "OBJECT_STORE_URL": url})


# --- through the app, on the S3 store ---------------------------------------------------------

@pytest.fixture()
def app_on_s3(app, s3_server, monkeypatch):
    """The suite's app with its object store on the S3 server (a prefix of its own)."""
    prefix = new_prefix()
    store = store_from_config({**app.config, **s3_server.overrides(prefix)})
    assert isinstance(store, S3Store)
    monkeypatch.setitem(app.extensions, "object_store", store)
    return store, prefix


def test_an_attachment_is_uploaded_to_and_downloaded_from_s3(
        client, applicant_with_draft, db, app, s3_server, app_on_s3):  # noqa: F811
    store, prefix = app_on_s3
    _user, _call, proposal = applicant_with_draft
    assert upload(client, proposal.id, pdf_with_metadata(), "事業計画.pdf").status_code == 302
    [stored] = attachments_of(db, proposal.id)
    assert s3_server.keys(prefix) == [f"{prefix}/{stored.storage_name}"]
    assert not LocalStore(app.config["UPLOAD_DIR"]).exists(stored.storage_name)
    assert current_store() is store  # the factory's app context

    response = client.get(f"/files/{stored.id}/download")
    assert response.status_code == 200
    assert response.data == store.get(stored.storage_name) and len(response.data) == stored.size
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Length"] == str(stored.size)
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''%E4%BA%8B%E6%A5%AD" in disposition
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "ETag" not in response.headers and "Last-Modified" not in response.headers

    token = csrf_token_from(client.get(f"/proposals/{proposal.id}/edit").text)
    assert client.post(f"/files/{stored.id}/delete", data={"csrf_token": token}).status_code == 302
    assert s3_server.keys(prefix) == []


def test_a_refused_upload_leaves_nothing_in_the_bucket(client, applicant_with_draft, db, s3_server,  # noqa: F811
                                                       app_on_s3):
    _store, prefix = app_on_s3
    _user, _call, proposal = applicant_with_draft
    response = upload(client, proposal.id, b"<html>not a pdf</html>", "申請書.pdf")
    assert response.status_code == 422
    assert attachments_of(db, proposal.id) == [] and s3_server.keys(prefix) == []


def test_a_missing_object_is_a_404_not_a_500(client, applicant_with_draft, db, app_on_s3):  # noqa: F811
    store, _prefix = app_on_s3
    _user, _call, proposal = applicant_with_draft
    upload(client, proposal.id, jpeg_with_exif(), "写真.jpg")
    [stored] = attachments_of(db, proposal.id)
    store.delete(stored.storage_name)  # lost from the store behind the portal's back
    assert client.get(f"/files/{stored.id}/download").status_code == 404
