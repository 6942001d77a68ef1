"""TLS on a local HTTPS server with its own throwaway CA (trustme): verification is never off.

* the client trusts the server through an explicit SSL context (``verify=...`` on the
  caller's http client), and through ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` exactly as httpx
  reads them, for the package's own clients (sync, async, and the aiohttp transport);
* an untrusted certificate is a :class:`CertificateVerifyError` (an ``APIConnectionError``)
  and is not retried.
"""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from hostile_server import Connection, HostileServer, hostile, read_request, reply
from transport_fakes import NO_WAIT

from clova_core import DefaultAioHttpClient
from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.client_config import default_ssl_context
from clova_core.errors import APIConnectionError
from clova_core.transport_errors import CertificateVerifyError

OK_EMBEDDING = b'{"status":{"code":"20000","message":"OK"},"result":{"embedding":[0.5]}}'


def answer(conn: Connection) -> None:
    while read_request(conn) is not None:
        conn.send(reply("200 OK", OK_EMBEDDING))


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https(ca: trustme.CA) -> Iterator[HostileServer]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    with hostile(answer, tls=server_context) as server:
        yield server


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def no_ssl_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def test_explicit_ssl_context_on_the_callers_http_client(
    https: HostileServer, ca: trustme.CA, no_ssl_env: None
) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with httpx.Client(verify=context) as http:
        client = ClovaClient(api_key="k", base_url=https.base_url, http_client=http)
        assert client.embed("hello").embedding == [0.5]
    assert https.base_url.startswith("https://")


def test_ssl_cert_file_is_honoured_by_our_own_clients(
    https: HostileServer, ca_file: Path, monkeypatch: pytest.MonkeyPatch, no_ssl_env: None
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with ClovaClient(api_key="k", base_url=https.base_url) as client:
        assert client.embed("hello").embedding == [0.5]


async def test_ssl_cert_file_is_honoured_by_both_async_transports(
    https: HostileServer, ca_file: Path, monkeypatch: pytest.MonkeyPatch, no_ssl_env: None
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    async with AsyncClovaClient(api_key="k", base_url=https.base_url) as client:
        assert (await client.embed("hello")).embedding == [0.5]
    async with DefaultAioHttpClient() as http:
        client = AsyncClovaClient(api_key="k", base_url=https.base_url, http_client=http)
        assert (await client.embed("hello")).embedding == [0.5]


def test_ssl_cert_dir_is_honoured(
    https: HostileServer,
    ca: trustme.CA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_ssl_env: None,
) -> None:
    # An OpenSSL hashed directory: <subject hash>.0 holds the CA certificate.
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    certs = tmp_path / "certs"
    certs.mkdir()
    subject_hash = _subject_hash(ca_file)
    (certs / f"{subject_hash}.0").write_bytes(ca.cert_pem.bytes())
    monkeypatch.setenv("SSL_CERT_DIR", str(certs))
    with ClovaClient(api_key="k", base_url=https.base_url) as client:
        assert client.embed("hello").embedding == [0.5]


def _subject_hash(ca_file: Path) -> str:
    result = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(ca_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_the_tls_context_is_shared_and_follows_the_environment(
    ca_file: Path, monkeypatch: pytest.MonkeyPatch, no_ssl_env: None
) -> None:
    default = default_ssl_context()
    assert default_ssl_context() is default  # loaded once, not per client
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    custom = default_ssl_context()
    assert custom is not default
    assert custom.verify_mode == ssl.CERT_REQUIRED
    assert custom.check_hostname


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_untrusted_certificate_is_a_typed_error_and_not_retried(
    https: HostileServer, no_ssl_env: None, transport: str
) -> None:
    # The default trust store (certifi) does not know the throwaway CA.
    with (
        ClovaClient(api_key="k", base_url=https.base_url, retry_policy=NO_WAIT) as client,
        pytest.raises(CertificateVerifyError) as info,
    ):
        client.embed("hello")
    assert isinstance(info.value, APIConnectionError)
    assert "SSL_CERT_FILE" in str(info.value)  # says what to do
    http = DefaultAioHttpClient() if transport == "aiohttp" else None
    client_async = AsyncClovaClient(
        api_key="k", base_url=https.base_url, http_client=http, retry_policy=NO_WAIT
    )
    async with client_async:
        with pytest.raises(CertificateVerifyError):
            await client_async.embed("hello")
    if http is not None:
        await http.aclose()
    assert https.connections == 2  # one attempt each, no retry
    assert https.requests == []
