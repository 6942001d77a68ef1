"""The emulator keeps its own copy of the documented limits: it must agree with the client's.

Two tables read from the same documentation by different code: comparing them here means a
misread limit cannot hide in both (the emulator would otherwise confirm the client's
mistake). The emulator must also stand alone: importing it imports nothing of the client.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from clova_core import constants as core_constants
from clova_core import models as core_models
from clova_emulator import limits
from clova_emulator.api import validation

CHAT_FIELDS = [field.name for field in dataclasses.fields(limits.ChatModelSpec)]
EMBEDDING_FIELDS = [field.name for field in dataclasses.fields(limits.EmbeddingModelSpec)]


def test_the_same_chat_models_are_served() -> None:
    assert list(limits.CHAT_MODELS) == list(core_models.CHAT_MODELS)


@pytest.mark.parametrize("name", list(core_models.CHAT_MODELS))
def test_chat_model_limits_and_capabilities_agree(name: str) -> None:
    """Context window, max input, max output, capabilities, output-cap field, rate limits."""
    emulated = dataclasses.asdict(limits.CHAT_MODELS[name])
    client = {key: getattr(core_models.CHAT_MODELS[name], key) for key in CHAT_FIELDS}
    assert emulated == client


def test_the_same_embedding_models_are_served() -> None:
    assert list(limits.EMBEDDING_MODELS) == list(core_models.EMBEDDING_MODELS)


@pytest.mark.parametrize("name", list(core_models.EMBEDDING_MODELS))
def test_embedding_model_limits_agree(name: str) -> None:
    """Path segment, max input tokens, dimensions, rate limits."""
    emulated = dataclasses.asdict(limits.EMBEDDING_MODELS[name])
    client = {key: getattr(core_models.EMBEDDING_MODELS[name], key) for key in EMBEDDING_FIELDS}
    assert emulated == client


@pytest.mark.parametrize(
    "name",
    [
        "THINKING_EFFORTS",
        "MIN_TOOL_OUTPUT_TOKENS",
        "MAX_IMAGES_PER_REQUEST",
        "MAX_IMAGES_PER_MESSAGE",
        "MAX_IMAGE_BYTES",
        "MAX_IMAGE_LONG_SIDE",
        "MIN_IMAGE_SHORT_SIDE",
        "MAX_IMAGE_ASPECT_RATIO",
        "IMAGE_FORMATS",
        "MAX_REQUEST_BODY_BYTES",
    ],
)
def test_request_limits_agree(name: str) -> None:
    assert getattr(limits, name) == getattr(core_models, name)


def test_thinking_default_output_budgets_agree() -> None:
    assert validation.THINKING_DEFAULT_BUDGET == core_models.THINKING_DEFAULT_OUTPUT_TOKENS


@pytest.mark.parametrize(
    "name",
    [
        "HEADER_AUTHORIZATION",
        "HEADER_REQUEST_ID",
        "HEADER_LEGACY_API_KEY",
        "HEADER_LEGACY_APIGW_KEY",
        "SECRET_HEADERS",
        "SUCCESS_CODE",
        "ENV_API_KEY",
        "ENV_APIGW_API_KEY",
        "ENV_BASE_URL",
    ],
)
def test_wire_names_agree(name: str) -> None:
    assert getattr(limits, name) == getattr(core_constants, name)


def test_a_client_custom_model_spec_is_accepted_as_is() -> None:
    spec = core_models.custom_chat_model("HCX-NEXT", base="HCX-007", max_output_tokens=99)
    copied = limits.ChatModelSpec.of(spec)
    assert dataclasses.asdict(copied) == {key: getattr(spec, key) for key in CHAT_FIELDS}


_IMPORTED_CLIENT_MODULES = """
import json, sys
import clova_emulator, clova_emulator.__main__, clova_emulator.pytest_plugin
from clova_emulator import Emulator
with Emulator() as emulator:
    pass
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] == "clova_core")))
"""


def test_importing_and_running_the_emulator_imports_nothing_of_the_client() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORTED_CLIENT_MODULES],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(completed.stdout) == []
