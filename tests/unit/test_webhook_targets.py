"""Webhook targets: http(s) only, never a non-public address unless allowed; signatures."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from adapters.webhooks import HttpSender, TargetCheck
from application.webhooks import Delivery, TargetRefused, sign


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


class _Recorder(BaseHTTPRequestHandler):
    """Answers POST /hook with a redirect to /elsewhere (which a default client follows, as a
    GET); records every request."""

    paths: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        self.paths.append(f"{self.command} {self.path}")
        self.send_response(303 if self.path == "/hook" else 204)
        self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.fixture
def redirecting() -> Iterator[tuple[str, list[str]]]:
    _Recorder.paths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.paths
    finally:
        server.shutdown()
        server.server_close()


def _delivery(url: str) -> Delivery:
    return Delivery(url=url, body=b"{}", headers={"Content-Type": "application/json"})


def test_a_redirect_is_the_answer_never_followed(redirecting: tuple[str, list[str]]) -> None:
    base, paths = redirecting
    sender = HttpSender(TargetCheck(allow_private=True))

    assert sender.post(_delivery(f"{base}/hook")) == 303
    assert paths == ["POST /hook"]  # /elsewhere was never asked for


def test_the_sender_checks_the_target_again_at_each_delivery(
    redirecting: tuple[str, list[str]],
) -> None:
    base, paths = redirecting

    with pytest.raises(TargetRefused):
        HttpSender(TargetCheck()).post(_delivery(f"{base}/hook"))
    assert paths == []
