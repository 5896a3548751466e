"""A real S3-compatible server for the tests: moto's server mode on
127.0.0.1 (a free port), with one bucket, for the whole session (each
pytest-xdist worker starts its own).

``s3_server`` is imported into conftest.py. Stores made from it take a
prefix of their own, so tests never see each other's objects.
TEST_OBJECT_STORE=s3 runs the whole suite's app on it (conftest.py).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from portal.files.objectstore import S3Store

BUCKET = "portal-test"
REGION = "ap-northeast-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str = BUCKET
    region: str = REGION
    access_key_id: str = "testing"
    secret_access_key: str = "testing"

    def overrides(self, prefix: str | None = None) -> dict:
        """App config for a store on this server under ``prefix`` (new by default)."""
        prefix = prefix if prefix is not None else new_prefix()
        return {"OBJECT_STORE_URL": f"s3://{self.bucket}/{prefix}",
                "OBJECT_STORE_ENDPOINT_URL": self.endpoint_url, "OBJECT_STORE_REGION": self.region,
                "OBJECT_STORE_ACCESS_KEY_ID": self.access_key_id,
                "OBJECT_STORE_SECRET_ACCESS_KEY": self.secret_access_key}

    def store(self, prefix: str | None = None) -> S3Store:
        return S3Store(self.bucket, endpoint_url=self.endpoint_url, region=self.region,
                       access_key_id=self.access_key_id, secret_access_key=self.secret_access_key,
                       prefix=prefix if prefix is not None else new_prefix())

    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``, read with a client of the test's own."""
        listed = self.store("").client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))


def new_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        running = S3Server(endpoint_url=f"http://{host}:{port}")
        running.store("").client.create_bucket(Bucket=BUCKET,
                                               CreateBucketConfiguration={"LocationConstraint": REGION})
        yield running
    finally:
        server.stop()
