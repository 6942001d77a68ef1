"""Pure LangChain <-> clova_core.types conversion (langchain_clova.messages)."""

from __future__ import annotations

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from clova_core.errors import ClovaValidationError, UnsupportedFeatureError
from clova_core.types import (
    AiFilterScore,
    ChatResult,
    ImagePart,
    Message,
    ResultEvent,
    TextPart,
    TokenEvent,
    ToolCall,
    ToolCallChunk,
    Usage,
)
from langchain_clova.messages import StreamAssembler, ai_message_from_result, to_clova_messages

PNG_B64 = "iVBORw0KGgo="


def _result(**overrides: object) -> ChatResult:
    fields: dict[str, object] = {
        "content": "안녕하세요",
        "finish_reason": "stop",
        "usage": Usage(prompt_tokens=12, completion_tokens=5, total_tokens=17),
        "seed": 42,
        "model": "HCX-005",
        "api_version": 3,
        "request_id": "req-1",
    }
    fields.update(overrides)
    return ChatResult(**fields)  # type: ignore[arg-type]


def test_system_messages_are_merged_into_one_leading_message() -> None:
    converted = to_clova_messages(
        [
            SystemMessage("Be terse."),
            HumanMessage("hi"),
            SystemMessage("Answer in Korean."),
            AIMessage("hello"),
        ]
    )
    assert converted == [
        Message(role="system", content="Be terse.\n\nAnswer in Korean."),
        Message(role="user", content="hi"),
        Message(role="assistant", content="hello"),
    ]


def test_tool_round_trip_messages() -> None:
    converted = to_clova_messages(
        [
            HumanMessage("What is 1 + 2?"),
            AIMessage(
                "",
                tool_calls=[{"name": "add", "args": {"a": 1, "b": 2}, "id": "call_1"}],
            ),
            ToolMessage('{"result": 3}', tool_call_id="call_1", name="add", status="error"),
        ]
    )
    assert converted[1] == Message(
        role="assistant",
        content="",
        tool_calls=(ToolCall(id="call_1", name="add", arguments={"a": 1, "b": 2}),),
    )
    assert converted[2] == Message(role="tool", content='{"result": 3}', tool_call_id="call_1")


def test_reasoning_and_tool_use_blocks_are_not_sent_back() -> None:
    previous = AIMessage(
        [
            {"type": "reasoning", "reasoning": "secret chain of thought"},
            {"type": "text", "text": "The answer is 4."},
            {"type": "tool_use", "id": "t1", "name": "calc", "input": {}},
        ],
        additional_kwargs={"reasoning_content": "secret chain of thought"},
    )
    (converted,) = to_clova_messages([previous])
    assert converted == Message(role="assistant", content="The answer is 4.")


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            {"type": "image", "url": "https://example.com/a.png"},
            ImagePart(url="https://example.com/a.png"),
        ),
        (
            {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
            ImagePart(data=f"data:image/png;base64,{PNG_B64}"),
        ),
        ({"type": "image", "base64": PNG_B64}, ImagePart(data=PNG_B64)),
        (
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
            ImagePart(data=f"data:image/png;base64,{PNG_B64}"),
        ),
        (
            {"type": "image_url", "image_url": "https://example.com/b.jpg"},
            ImagePart(url="https://example.com/b.jpg"),
        ),
        (
            {"type": "image", "source_type": "base64", "data": PNG_B64, "mime_type": "image/png"},
            ImagePart(data=f"data:image/png;base64,{PNG_B64}"),
        ),
    ],
)
def test_image_blocks_become_image_parts(block: dict[str, object], expected: ImagePart) -> None:
    (converted,) = to_clova_messages([HumanMessage([{"type": "text", "text": "Describe"}, block])])
    assert converted.content == [TextPart("Describe"), expected]


def test_text_only_list_content_is_sent_as_a_string() -> None:
    (converted,) = to_clova_messages([HumanMessage(["Hello, ", {"type": "text", "text": "world"}])])
    assert converted.content == "Hello, world"


def test_unsupported_blocks_and_messages_raise_typed_errors() -> None:
    with pytest.raises(UnsupportedFeatureError, match="'audio'"):
        to_clova_messages(
            [HumanMessage([{"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"}])]
        )
    with pytest.raises(UnsupportedFeatureError, match="only in user messages"):
        to_clova_messages(
            [ToolMessage([{"type": "image", "url": "https://example.com/a.png"}], tool_call_id="1")]
        )
    with pytest.raises(ClovaValidationError, match="FunctionMessage"):
        to_clova_messages([FunctionMessage("x", name="f")])
    with pytest.raises(ClovaValidationError, match="'critic'"):
        to_clova_messages([ChatMessage("x", role="critic")])


def test_chat_message_roles_map() -> None:
    converted = to_clova_messages(
        [
            ChatMessage("s", role="system"),
            ChatMessage("u", role="user"),
            ChatMessage("a", role="assistant"),
        ]
    )
    assert [m.role for m in converted] == ["system", "user", "assistant"]


def test_result_to_ai_message_carries_reasoning_usage_and_metadata() -> None:
    result = _result(
        model="HCX-007",
        thinking_content="Let me think.",
        usage=Usage(prompt_tokens=10, completion_tokens=30, total_tokens=40, thinking_tokens=20),
        ai_filter=(AiFilterScore(group_name="curse", name="insult", score="2", result="OK"),),
        created_ms=1_700_000_000_000,
    )
    message = ai_message_from_result(result)
    assert message.content == "안녕하세요"
    assert message.additional_kwargs == {"reasoning_content": "Let me think."}
    assert message.content_blocks[0] == {"type": "reasoning", "reasoning": "Let me think."}
    assert message.usage_metadata == {
        "input_tokens": 10,
        "output_tokens": 30,
        "total_tokens": 40,
        "output_token_details": {"reasoning": 20},
    }
    assert message.response_metadata == {
        "model_name": "HCX-007",
        "model_provider": "naver",
        "finish_reason": "stop",
        "request_id": "req-1",
        "api_version": 3,
        "seed": 42,
        "created": 1_700_000_000_000,
        "ai_filter": [{"group_name": "curse", "name": "insult", "score": "2", "result": "OK"}],
    }


def test_result_tool_calls_become_tool_calls() -> None:
    message = ai_message_from_result(
        _result(
            content="",
            finish_reason="tool_calls",
            tool_calls=(ToolCall(id="call_1", name="weather", arguments={"city": "서울"}),),
        )
    )
    assert message.tool_calls == [
        {"name": "weather", "args": {"city": "서울"}, "id": "call_1", "type": "tool_call"}
    ]


def _aggregate(
    events: list[TokenEvent | ResultEvent],
) -> tuple[list[AIMessageChunk], AIMessageChunk]:
    assembler = StreamAssembler()
    chunks = [c for e in events if (c := assembler.chunk(e)) is not None]
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return chunks, full


def test_stream_usage_only_on_last_chunk_and_no_repeated_text() -> None:
    events: list[TokenEvent | ResultEvent] = [
        TokenEvent(thinking_content="Hmm, "),
        TokenEvent(thinking_content="ok."),
        TokenEvent(content="안녕"),
        TokenEvent(),
        TokenEvent(content="하세요"),
        ResultEvent(
            _result(
                thinking_content="Hmm, ok.",
                usage=Usage(
                    prompt_tokens=3, completion_tokens=9, total_tokens=12, thinking_tokens=4
                ),
            )
        ),
    ]
    chunks, full = _aggregate(events)
    assert len(chunks) == 5  # the empty token event yields nothing
    assert [c.usage_metadata is not None for c in chunks] == [False] * 4 + [True]
    assert chunks[-1].chunk_position == "last"
    assert full.content == "안녕하세요"
    assert full.additional_kwargs["reasoning_content"] == "Hmm, ok."
    assert full.usage_metadata is not None
    assert full.usage_metadata["output_token_details"] == {"reasoning": 4}
    assert full.response_metadata["model_name"] == "HCX-005"
    assert full.content_blocks[0] == {"type": "reasoning", "reasoning": "Hmm, ok."}


def test_stream_result_fills_in_what_tokens_did_not_deliver() -> None:
    _, full = _aggregate(
        [
            ResultEvent(
                _result(
                    content="",
                    tool_calls=(ToolCall(id="c1", name="f", arguments={"x": 1}),),
                    finish_reason="tool_calls",
                )
            )
        ]
    )
    assert full.tool_calls == [{"name": "f", "args": {"x": 1}, "id": "c1", "type": "tool_call"}]


def test_streamed_tool_call_chunks_merge_by_index() -> None:
    _, full = _aggregate(
        [
            TokenEvent(tool_call_chunks=(ToolCallChunk(index=0, id="c1", name="add"),)),
            TokenEvent(tool_call_chunks=(ToolCallChunk(index=0, arguments='{"a": 1,'),)),
            TokenEvent(tool_call_chunks=(ToolCallChunk(index=1, id="c2", name="mul"),)),
            TokenEvent(tool_call_chunks=(ToolCallChunk(index=0, arguments=' "b": 2}'),)),
            TokenEvent(tool_call_chunks=(ToolCallChunk(index=1, arguments='{"a": 3, "b": 4}'),)),
            ResultEvent(
                _result(
                    content="",
                    finish_reason="tool_calls",
                    tool_calls=(
                        ToolCall(id="c1", name="add", arguments={"a": 1, "b": 2}),
                        ToolCall(id="c2", name="mul", arguments={"a": 3, "b": 4}),
                    ),
                )
            ),
        ]
    )
    assert [(c["name"], c["args"], c["id"]) for c in full.tool_calls] == [
        ("add", {"a": 1, "b": 2}, "c1"),
        ("mul", {"a": 3, "b": 4}, "c2"),
    ]
