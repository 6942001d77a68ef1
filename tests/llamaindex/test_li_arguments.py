"""Constructor arguments: misspellings are errors, never silently ignored."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from llama_index_clova import ClovaX, ClovaXEmbedding


@pytest.mark.parametrize(
    "build",
    [
        lambda: ClovaX(model="HCX-005", api_key="test-key", max_tokenz=5),
        lambda: ClovaXEmbedding(api_key="test-key", max_concurency=3),
    ],
    ids=["ClovaX", "ClovaXEmbedding"],
)
def test_a_misspelled_argument_is_rejected(build: object) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        build()  # type: ignore[operator]


def test_the_embedding_model_is_accepted_as_model_or_model_name() -> None:
    assert ClovaXEmbedding(model="bge-m3", api_key="test-key").model_name == "bge-m3"
    assert ClovaXEmbedding(model_name="bge-m3", api_key="test-key").model_name == "bge-m3"


def test_dict_round_trips_survive_the_strict_arguments() -> None:
    llm = ClovaX(model="HCX-007", api_key="test-key", temperature=0.2)
    again = ClovaX.from_dict(llm.to_dict(), api_key="test-key")
    assert (again.model, again.temperature) == ("HCX-007", 0.2)
    embedding = ClovaXEmbedding(model="bge-m3", api_key="test-key")
    assert ClovaXEmbedding.from_dict(embedding.to_dict(), api_key="test-key").model_name == "bge-m3"
