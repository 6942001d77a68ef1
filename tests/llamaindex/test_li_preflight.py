"""The core's typed pre-flight errors reach LlamaIndex users unchanged, before any request."""

from __future__ import annotations

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, TextBlock
from llama_index.core.bridge.pydantic import BaseModel
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool

from clova_core.errors import (
    ClovaConfigurationError,
    ClovaValidationError,
    ContextLimitError,
    UnsupportedFeatureError,
)
from clova_emulator import Emulator
from llama_index_clova import ClovaX, ClovaXEmbedding

from .conftest import Target, logged

# llama-index workflows inspect the agent with inspect.getmembers (pydantic deprecations).
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated.*:DeprecationWarning:inspect")

SENTENCE = "한국어로 된 아주 긴 문장이 계속해서 이어집니다. "
LONG_KOREAN = SENTENCE * 3_000
"""Over every model's input limit even by the core's conservative local lower bound."""


def lookup(term: str) -> str:
    """Look a term up."""
    return term


def test_over_long_prompt_on_hcx_dash_001(target: Target, emu: Emulator) -> None:
    llm = target.llm(model="HCX-DASH-001")
    with pytest.raises(ContextLimitError) as info:
        llm.complete(LONG_KOREAN)
    assert info.value.max_input_tokens == 3_500
    with pytest.raises(ContextLimitError):
        list(llm.stream_chat([ChatMessage(content=LONG_KOREAN)]))
    assert emu.requests == []


def test_exact_token_count_asks_the_token_calculator_first(target: Target, emu: Emulator) -> None:
    # Over HCX-003's 7,600 input tokens, but not by the local lower bound: the exact count
    # from CLOVA's token calculator catches it before the chat request.
    llm = target.llm(model="HCX-003", exact_token_count=True)
    with pytest.raises(ContextLimitError) as info:
        llm.complete(SENTENCE * 1_000)
    assert info.value.exact is True
    assert [record.path for record in logged(emu, 1)] == ["/v1/api-tools/chat-tokenize/HCX-003"]


async def test_over_long_prompt_async(target: Target, emu: Emulator) -> None:
    llm = target.llm(model="HCX-003")
    with pytest.raises(ContextLimitError):
        await llm.achat([ChatMessage(content=LONG_KOREAN)])
    with pytest.raises(ContextLimitError):
        await llm.astream_complete(LONG_KOREAN)
    assert emu.requests == []


def test_image_on_a_model_without_images(target: Target, emu: Emulator) -> None:
    message = ChatMessage(
        blocks=[TextBlock(text="무엇이 보이나요?"), ImageBlock(url="https://example.com/a.png")]
    )
    with pytest.raises(UnsupportedFeatureError, match="HCX-005"):
        target.llm(model="HCX-DASH-002").chat([message])
    assert emu.requests == []


def test_tools_on_a_v1_model(target: Target, emu: Emulator) -> None:
    llm = target.llm(model="HCX-003")
    assert llm.metadata.is_function_calling_model is False
    with pytest.raises(UnsupportedFeatureError):
        llm.chat_with_tools([FunctionTool.from_defaults(fn=lookup)], user_msg="look up CLOVA")
    assert emu.requests == []


async def test_function_agent_rejects_a_model_without_tools(target: Target) -> None:
    agent = FunctionAgent(tools=[lookup], llm=target.llm(model="HCX-DASH-001"))
    with pytest.raises(ValueError, match="FunctionCallingLLM"):
        await agent.run("look up CLOVA")


def test_structured_output_on_a_v1_model(target: Target, emu: Emulator) -> None:
    class Answer(BaseModel):
        text: str

    with pytest.raises(UnsupportedFeatureError, match="HCX-007"):
        target.llm(model="HCX-DASH-001").structured_predict(Answer, PromptTemplate("{q}"), q="?")
    assert emu.requests == []


def test_conflicting_reasoning_and_tools(target: Target, emu: Emulator) -> None:
    llm = target.llm(model="HCX-007")
    with pytest.raises(ClovaValidationError, match="thinking='high'"):
        llm.chat_with_tools(
            [FunctionTool.from_defaults(fn=lookup)], user_msg="look up CLOVA", thinking="high"
        )
    assert emu.requests == []


def test_over_long_chunk_fails_index_building(target: Target, emu: Emulator) -> None:
    documents = [Document(text="짧은 문서입니다."), Document(text=LONG_KOREAN)]
    with pytest.raises(ContextLimitError, match=r"texts\[1\]"):
        VectorStoreIndex.from_documents(
            documents,
            embed_model=target.embedding(),
            transformations=[SentenceSplitter(chunk_size=100_000, chunk_overlap=0)],
        )
    assert emu.requests == []


def test_missing_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOVASTUDIO_API_KEY", raising=False)
    with pytest.raises(ClovaConfigurationError):
        ClovaX()
    with pytest.raises(ClovaConfigurationError):
        ClovaXEmbedding()


def test_key_from_the_environment(emulator_env: Emulator) -> None:
    assert ClovaX().complete("안녕하세요").text
    assert ClovaXEmbedding().get_query_embedding("안녕하세요")
    assert {record.auth for record in logged(emulator_env, 2)} == {"bearer"}
