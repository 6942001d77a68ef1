"""Reply bodies decode as the standard library decodes them, orjson or not."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest
from transport_fakes import BASE, TEST_KEY

from clova_core.client import ClovaClient
from clova_core.errors import APIResponseError
from clova_core.jsonloads import loads

# What orjson refuses and json.loads accepts: each must come back as json.loads reads it.
STDLIB_ONLY = [
    b"NaN",
    b"[Infinity, -Infinity]",
    b"1e400",
    b'"\\ud800"',
    b"\xef\xbb\xbf{}",
    '{"a": 1}'.encode("utf-16"),
]


@pytest.mark.parametrize("data", STDLIB_ONLY, ids=range(len(STDLIB_ONLY)))
def test_what_orjson_refuses_is_read_by_the_standard_library(data: bytes) -> None:
    assert repr(loads(data)) == repr(json.loads(data))


def test_nesting_past_both_limits_raises_recursion_error_like_the_stdlib() -> None:
    data = b"[" * 5000 + b"]" * 5000
    with pytest.raises(RecursionError):
        json.loads(data)
    with pytest.raises(RecursionError):
        loads(data)


def _error_of(decode: Callable[[bytes], object], data: bytes) -> ValueError:
    try:
        decode(data)
    except ValueError as error:
        return error
    raise AssertionError(f"{data!r} decoded")


@pytest.mark.parametrize("data", [b"", b"{", b"[1,]", b"\xff", b'{"a": tru}', b"  "])
def test_invalid_json_raises_what_json_loads_raises(data: bytes) -> None:
    ours, stdlib = _error_of(loads, data), _error_of(json.loads, data)
    assert type(ours) is type(stdlib)
    assert str(ours) == str(stdlib)


def test_an_embedding_reply_reads_to_the_same_floats() -> None:
    values = [math.sin(index) / 3 for index in range(1024)]
    body = json.dumps({"status": {"code": "20000"}, "result": {"embedding": values}}).encode()
    assert loads(body) == json.loads(body)
    assert loads(body.decode()) == json.loads(body)


def test_a_reply_with_a_byte_order_mark_and_nan_is_parsed_on_the_wire() -> None:
    body = b'\xef\xbb\xbf{"status": {"code": "20000"}, "result": {"embedding": [NaN, 0.5]}}'
    http = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200, content=body)))
    with ClovaClient(api_key=TEST_KEY, base_url=BASE, http_client=http) as client:
        result = client.embed("안녕하세요")
    assert math.isnan(result.embedding[0])
    assert result.embedding[1] == 0.5


def test_a_body_that_is_not_json_is_a_typed_error_on_the_wire() -> None:
    http = httpx.Client(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, content=b"<html>oops"))
    )
    client = ClovaClient(api_key=TEST_KEY, base_url=BASE, http_client=http)
    with client, pytest.raises(APIResponseError, match="body is not JSON"):
        client.embed("안녕하세요")


def test_without_orjson_the_standard_library_decodes() -> None:
    """orjson is optional at run time (PyPy, or removed): nothing else changes."""
    script = (
        "import sys; sys.modules['orjson'] = None\n"
        "from clova_core.jsonloads import loads\n"
        "assert loads(b'{\"result\": [0.25, NaN]}')['result'][0] == 0.25\n"
        "assert 'orjson' not in {name for name, module in sys.modules.items() if module}\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
