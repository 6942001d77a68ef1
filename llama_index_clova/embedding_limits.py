"""Pre-flight checks of texts to embed, all of them before any request is sent.

The core's :func:`clova_core.request.prepare_embedding` is the one rule (empty text is
CLOVA 40004; a text whose conservative token lower bound is over the model's limit is a
:class:`~clova_core.errors.ContextLimitError`, clova-api.md 5). Here it runs over a whole
batch first, and the error keeps its class but names the text's index in the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from clova_core.errors import ClovaValidationError, ContextLimitError
from clova_core.models import EmbeddingModelSpec
from clova_core.request import prepare_embedding


def check_texts(texts: Sequence[str], spec: EmbeddingModelSpec) -> None:
    """Raise the core's typed error for the first text ``spec`` cannot take, naming its index."""
    for index, text in enumerate(texts):
        try:
            prepare_embedding(text, spec)
        except ContextLimitError as err:
            raise ContextLimitError(
                f"texts[{index}]: {err}",
                input_tokens=err.input_tokens,
                max_input_tokens=err.max_input_tokens,
                requested_output_tokens=err.requested_output_tokens,
                context_window=err.context_window,
                exact=err.exact,
            ) from err
        except ClovaValidationError as err:
            raise type(err)(f"texts[{index}]: {err}") from err
