"""structured_predict into Pydantic models: native JSON schema on HCX-007, function calling on
HCX-005 (clova-api.md 3.6, 3.7)."""

from __future__ import annotations

import pytest
from llama_index.core.bridge.pydantic import BaseModel, Field
from llama_index.core.program.utils import FlexibleModel
from llama_index.core.prompts import PromptTemplate

from clova_emulator import Emulator

from .conftest import Target, logged


class Weather(BaseModel):
    """A weather report."""

    city: str = Field(description="The city the report is about.")
    temperature_c: float = Field(description="Temperature in degrees Celsius.")


PROMPT = PromptTemplate("Extract the weather report from this text: {text}")
TEXT = "It is 23 degrees in Seoul today."


@pytest.mark.vcr
@pytest.mark.parametrize("model", ["HCX-007", "HCX-005"])
def test_structured_predict(model: str, target: Target) -> None:
    weather = target.llm(model=model).structured_predict(Weather, PROMPT, text=TEXT)
    assert isinstance(weather, Weather)
    assert weather.city == "Seoul"
    assert weather.temperature_c == 23


@pytest.mark.vcr
@pytest.mark.parametrize("model", ["HCX-007", "HCX-005"])
async def test_astructured_predict(model: str, target: Target) -> None:
    weather = await target.llm(model=model).astructured_predict(Weather, PROMPT, text=TEXT)
    assert weather == Weather(city="Seoul", temperature_c=23)


def test_each_model_uses_its_native_mechanism(target: Target, emu: Emulator) -> None:
    target.llm(model="HCX-007").structured_predict(Weather, PROMPT, text=TEXT)
    target.llm(model="HCX-005").structured_predict(Weather, PROMPT, text=TEXT)
    native, function_calling = (record.body for record in logged(emu, 2))
    assert native["responseFormat"]["type"] == "json"
    assert native["responseFormat"]["schema"]["required"] == ["city", "temperature_c"]
    assert native["thinking"] == {"effort": "none"}
    assert "tools" not in native
    assert function_calling["tools"][0]["function"]["name"] == "Weather"
    assert function_calling["toolChoice"] == {"type": "function", "function": {"name": "Weather"}}
    assert "responseFormat" not in function_calling


@pytest.mark.parametrize("model", ["HCX-007", "HCX-005"])
def test_stream_structured_predict_yields_partials_then_the_object(
    model: str, target: Target
) -> None:
    outputs = list(target.llm(model=model).stream_structured_predict(Weather, PROMPT, text=TEXT))
    assert len(outputs) > 2
    assert isinstance(outputs[0], (FlexibleModel, Weather))
    assert outputs[-1] == Weather(city="Seoul", temperature_c=23)


@pytest.mark.parametrize("model", ["HCX-007", "HCX-005"])
async def test_astream_structured_predict(model: str, target: Target) -> None:
    stream = await target.llm(model=model).astream_structured_predict(Weather, PROMPT, text=TEXT)
    outputs = [output async for output in stream]
    assert len(outputs) > 2
    assert outputs[-1] == Weather(city="Seoul", temperature_c=23)
