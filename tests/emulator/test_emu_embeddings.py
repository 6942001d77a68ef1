"""Embeddings (clova-api.md 5): paths, vector properties, lexical similarity."""

from __future__ import annotations

import math

import httpx
import pytest

from clova_emulator import Emulator, count_tokens
from clova_emulator.api.embeddings import vector


def embed(http: httpx.Client, path: str, text: str) -> list[float]:
    response = http.post(path, json={"text": text})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["inputTokens"] == count_tokens(text)
    return result["embedding"]  # type: ignore[no-any-return]


def norm(values: list[float]) -> float:
    return math.sqrt(sum(value * value for value in values))


def cosine(left: list[float], right: list[float]) -> float:
    return sum(a * b for a, b in zip(left, right, strict=True)) / (norm(left) * norm(right))


@pytest.mark.parametrize(
    "path",
    [
        "/v1/api-tools/embedding/clir-emb-dolphin",
        "/v1/api-tools/embedding/clir-sts-dolphin",
        "/v1/api-tools/embedding/v2",
        "/v1/api-tools/embedding/v2/",
        "/v1/api-tools/embedding/v2/my-app-id",
        "/v1/api-tools/embedding/clir-emb-dolphin/abc123",
        "/testapp/v1/api-tools/embedding/clir-sts-dolphin/abc123",
        "/serviceapp/v1/api-tools/embedding/v2/",
    ],
)
def test_paths_give_1024_floats(emu: Emulator, http: httpx.Client, path: str) -> None:
    values = embed(http, path, "hello world")
    assert len(values) == 1024
    assert all(isinstance(value, float) for value in values)


def test_normalisation_per_model(emu: Emulator, http: httpx.Client) -> None:
    text = "CLOVA Studio embeddings"
    assert norm(embed(http, "/v1/api-tools/embedding/v2", text)) == pytest.approx(1.0, abs=1e-5)
    assert norm(embed(http, "/v1/api-tools/embedding/clir-sts-dolphin", text)) == pytest.approx(
        1.0, abs=1e-5
    )
    assert norm(embed(http, "/v1/api-tools/embedding/clir-emb-dolphin", text)) > 2.0


def test_lexically_similar_texts_are_closer(emu: Emulator, http: httpx.Client) -> None:
    path = "/v1/api-tools/embedding/v2"
    query = embed(http, path, "How is the weather in Seoul today?")
    near = embed(http, path, "Today's weather in Seoul is sunny")
    far = embed(http, path, "Stock markets fell sharply on Friday")
    assert cosine(query, near) > cosine(query, far) + 0.2


def test_korean_particles_do_not_hide_similarity(emu: Emulator, http: httpx.Client) -> None:
    path = "/v1/api-tools/embedding/clir-sts-dolphin"
    query = embed(http, path, "서울의 날씨")
    near = embed(http, path, "서울은 날씨가 맑습니다")
    far = embed(http, path, "부산 해운대 해수욕장")
    assert cosine(query, near) > cosine(query, far) + 0.2


def test_vectors_are_deterministic() -> None:
    assert vector("같은 문장", "bge-m3") == vector("같은 문장", "bge-m3")
    assert vector("punctuation only: !!!", "bge-m3") != vector("???", "bge-m3")
