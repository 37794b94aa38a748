"""Webhook targets: http(s) only, never a non-public address unless allowed; signatures."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from adapters.webhooks import TargetCheck
from application.webhooks import TargetRefused, sign


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/hook",
        "file:///etc/passwd",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://172.16.0.1/hook",
        "http://0.0.0.0/hook",
        "https:///no-host",
    ],
)
def test_non_public_or_non_http_targets_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        TargetCheck().check(url)


def test_a_setting_allows_private_addresses_but_never_other_schemes() -> None:
    TargetCheck(allow_private=True).check("http://127.0.0.1:8080/hook")
    with pytest.raises(TargetRefused):
        TargetCheck(allow_private=True).check("gopher://127.0.0.1/")


def test_the_signature_is_hmac_sha256_over_the_timestamp_and_the_body() -> None:
    body = b'{"id":"1"}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()

    assert sign("s3cret", 1_700_000_000, body) == f"t=1700000000,v1={expected}"
