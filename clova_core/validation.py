"""Range checks for sampling parameters, per API version, and path-segment checks.

Ranges (https://api.ncloud-docs.com/docs/clovastudio-chatcompletions for v1,
https://api.ncloud-docs.com/docs/clovastudio-chatcompletionsv3 for v3):

=====================  =====================  =====================
caller field           v1 wire / range        v3 wire / range
=====================  =====================  =====================
temperature            0 < t <= 1             0 <= t <= 1
top_p                  0 < p <= 1             0 < p <= 1
top_k                  0 <= k <= 128          0 <= k <= 128
repetition_penalty     repeatPenalty (0, 10]  repetitionPenalty (0, 2]
stop                   stopBefore: [str]      stop: [str]
seed                   0 .. 4294967295        0 .. 4294967295
include_ai_filters     bool                   bool
=====================  =====================  =====================

Every failure is a :class:`~clova_core.errors.ClovaValidationError` naming the caller's field,
the value, the allowed range and the model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from clova_core.errors import ClovaValidationError
from clova_core.models import ChatModelSpec
from clova_core.types import ChatRequest

MAX_SEED = 4_294_967_295
MAX_TOP_K = 128
V1_MAX_REPEAT_PENALTY = 10.0
V3_MAX_REPETITION_PENALTY = 2.0
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]*")


def _number(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ClovaValidationError(f"{field} must be a number, got {value!r}.")
    if not math.isfinite(value):
        raise ClovaValidationError(f"{field} must be a finite number, got {value!r}.")
    return float(value)


def _integer(field: str, value: object, low: int, high: int, model: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ClovaValidationError(f"{field} must be an integer, got {value!r}.")
    if not low <= value <= high:
        raise ClovaValidationError(
            f"{field}={value} is out of range for {model}: allowed {low}..{high}."
        )
    return value


def _open_closed(field: str, value: object, high: float, model: str, hint: str = "") -> float:
    """A number in (0, high]."""
    number = _number(field, value)
    if not 0 < number <= high:
        raise ClovaValidationError(
            f"{field}={value} is out of range for {model}: allowed 0 < {field} <= {high:g}." + hint
        )
    return number


def check_temperature(value: object, spec: ChatModelSpec) -> float:
    """v1: 0 < t <= 1 (0 is rejected by the server); v3: 0 <= t <= 1."""
    number = _number("temperature", value)
    if spec.api_version == 1:
        if number == 0:
            raise ClovaValidationError(
                f"temperature=0 is not allowed on {spec.name} (the v1 API requires "
                "0 < temperature <= 1). Use a small positive value such as 0.01 for "
                "near-deterministic output, or a v3 model (HCX-005, HCX-DASH-002, HCX-007), "
                "which accepts 0."
            )
        return _open_closed("temperature", value, 1.0, spec.name)
    if not 0 <= number <= 1:
        raise ClovaValidationError(
            f"temperature={value} is out of range for {spec.name}: allowed 0 <= temperature <= 1."
        )
    return number


def check_stop(value: object) -> list[str]:
    """A list of strings (a bare string is rejected rather than split into characters)."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ClovaValidationError(
            f"stop must be a list of strings, got {value!r}; wrap a single stop string in a "
            "list: stop=[...]."
        )
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise ClovaValidationError(f"stop must contain only strings, got {item!r}.")
    return items


def check_seed(value: object, spec: ChatModelSpec) -> int:
    """0 (random) or 1 .. 4294967295 (fixed)."""
    return _integer("seed", value, 0, MAX_SEED, spec.name)


def sampling_fields(request: ChatRequest, spec: ChatModelSpec) -> dict[str, Any]:
    """The checked sampling fields of ``request`` under their wire names for ``spec``.

    ``stop`` is left out when empty, so that an empty list does not count as "stop present"
    for HCX-007's thinking rules.
    """
    v1 = spec.api_version == 1
    body: dict[str, Any] = {}
    if request.temperature is not None:
        body["temperature"] = check_temperature(request.temperature, spec)
    if request.top_p is not None:
        body["topP"] = _open_closed("top_p", request.top_p, 1.0, spec.name)
    if request.top_k is not None:
        body["topK"] = _integer("top_k", request.top_k, 0, MAX_TOP_K, spec.name)
    if request.repetition_penalty is not None:
        high = V1_MAX_REPEAT_PENALTY if v1 else V3_MAX_REPETITION_PENALTY
        hint = "" if v1 else " (v3 default 1.1; tune in 0.05 steps within 1.0-1.1)"
        body["repeatPenalty" if v1 else "repetitionPenalty"] = _open_closed(
            "repetition_penalty", request.repetition_penalty, high, spec.name, hint
        )
    if request.stop is not None:
        stop = check_stop(request.stop)
        if stop:
            body["stopBefore" if v1 else "stop"] = stop
    if request.seed is not None:
        body["seed"] = check_seed(request.seed, spec)
    if request.include_ai_filters is not None:
        if not isinstance(request.include_ai_filters, bool):
            raise ClovaValidationError(
                f"include_ai_filters must be True or False, got {request.include_ai_filters!r}."
            )
        body["includeAiFilters"] = request.include_ai_filters
    return body


def check_path_segment(field: str, value: object) -> str:
    """A model name or task id that is safe to put in a URL path as is."""
    if not isinstance(value, str) or _PATH_SEGMENT.fullmatch(value) is None:
        raise ClovaValidationError(
            f"{field} {value!r} is not a valid CLOVA model name or task id (letters, digits, "
            "'.', '_', ':', '-'; no slashes or spaces)."
        )
    return value
