"""Embed a large corpus on a Dask cluster: every text exactly once, in order, resumable.

The corpus is cut into batches; each batch is one Dask task that embeds its texts with the
embedding object it is given (a LangChain ``ClovaXEmbeddings``, a LlamaIndex
``ClovaXEmbedding``, or a function of a list of texts) and writes the vectors to one file of
the output folder, atomically (a temporary file renamed into place). So:

* a worker that dies mid-batch leaves no file for that batch, and Dask runs the task again on
  another worker; only that batch's texts are sent again;
* a rerun (after the driver itself stopped) skips the batches whose files exist;
* :func:`load_vectors` reads the files in batch order: one vector per text, in order.

The embedding object is pickled to the workers once (scattered), and each worker process
builds its HTTP client from it on first use; the API key is resolved from the worker's
environment, never shipped. Give it a ``quota_limiter`` that every worker shares, such as a
:class:`~clova_core.ratelimit_redis.RedisRateLimiter` built from a URL.

Dask is imported only when a job starts: install it with ``pip install "dask[distributed]"``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from clova_core.errors import ClovaConfigurationError, ClovaValidationError

MANIFEST = "manifest.json"
VECTOR_TYPE: Literal["d"] = "d"
"""Vectors are stored as native float64, so they read back exactly as they were returned."""


@dataclass(frozen=True)
class BulkReport:
    """What one run did: batches embedded now, batches already done before it, texts."""

    embedded_batches: int
    skipped_batches: int
    texts: int


def batch_path(output_dir: Path, index: int) -> Path:
    """The file of batch ``index``."""
    return output_dir / f"batch-{index:07d}.f64"


def fingerprint(texts: Sequence[str], batch_size: int) -> str:
    """What a folder's batches were made from: the texts, in order, and the batch size."""
    digest = hashlib.sha256(str(batch_size).encode())
    for text in texts:
        encoded = text.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.hexdigest()


def prepare(output_dir: Path, texts: Sequence[str], batch_size: int) -> list[int]:
    """Check or write the folder's manifest; return the batches still to embed."""
    if batch_size < 1:
        raise ClovaConfigurationError(f"batch_size must be >= 1, got {batch_size}")
    output_dir.mkdir(parents=True, exist_ok=True)
    manifest = {
        "texts": len(texts),
        "batch_size": batch_size,
        "fingerprint": fingerprint(texts, batch_size),
    }
    manifest_path = output_dir / MANIFEST
    if manifest_path.exists():
        found = json.loads(manifest_path.read_text())
        if found != manifest:
            raise ClovaConfigurationError(
                f"{output_dir} holds vectors of other texts or another batch_size: resume with "
                "the same texts and batch_size, or use an empty folder."
            )
    else:
        write_atomically(manifest_path, json.dumps(manifest).encode())
    batches = -(-len(texts) // batch_size)
    return [index for index in range(batches) if not batch_path(output_dir, index).exists()]


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see all of it or nothing."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def embed_texts(embedder: Any, texts: list[str]) -> list[list[float]]:
    """Embed with a LangChain or LlamaIndex embedding object, or a function of texts."""
    if hasattr(embedder, "embed_documents"):
        vectors: list[list[float]] = embedder.embed_documents(texts)
    elif hasattr(embedder, "get_text_embedding_batch"):
        vectors = embedder.get_text_embedding_batch(texts)
    elif callable(embedder):
        vectors = embedder(texts)
    else:
        raise ClovaConfigurationError(
            "embedder must have embed_documents (LangChain), get_text_embedding_batch "
            f"(LlamaIndex) or be a function of a list of texts, got {type(embedder).__name__}"
        )
    if len(vectors) != len(texts):
        raise ClovaValidationError(f"{len(texts)} texts gave {len(vectors)} vectors")
    return vectors


def embed_batch(embedder: Any, index: int, texts: list[str], output_dir: str) -> int:
    """One task: embed batch ``index`` and write its file (nothing if it is already there).
    Returns how many texts were embedded now."""
    path = batch_path(Path(output_dir), index)
    if path.exists():
        return 0
    vectors = embed_texts(embedder, texts)
    values: array[float] = array(VECTOR_TYPE)
    dimensions = len(vectors[0]) if vectors else 0
    for vector in vectors:
        if len(vector) != dimensions:
            raise ClovaValidationError("vectors of one batch differ in length")
        values.extend(vector)
    write_atomically(path, values.tobytes())
    return len(texts)


def embed_on_dask(
    client: Any,
    texts: Sequence[str],
    embedder: Any,
    output_dir: str | os.PathLike[str],
    *,
    batch_size: int = 256,
    retries: int = 2,
) -> BulkReport:
    """Embed ``texts`` on the Dask cluster of ``client`` (a ``distributed.Client``) into
    ``output_dir``, skipping the batches a previous run finished. Read the vectors back with
    :func:`load_vectors`. ``retries``: extra attempts of a batch whose task raised (a worker
    that dies is handled by Dask itself)."""
    if importlib.util.find_spec("distributed") is None:
        raise ClovaConfigurationError("embed_on_dask needs Dask: pip install 'dask[distributed]'")
    folder = Path(output_dir)
    pending = prepare(folder, texts, batch_size)
    batches = -(-len(texts) // batch_size)
    if pending:
        shared = client.scatter(embedder, broadcast=True)
        futures = [
            client.submit(
                embed_batch,
                shared,
                index,
                list(texts[index * batch_size : (index + 1) * batch_size]),
                str(folder),
                retries=retries,
                pure=False,
            )
            for index in pending
        ]
        # Wait for every batch, failed or not, before raising: no task of this run is still
        # sending when the caller reruns the job.
        client.gather(futures, errors="skip")
        for future in futures:
            if future.status == "error":
                future.result()  # the first failure, with its own traceback
    return BulkReport(len(pending), batches - len(pending), len(texts))


def load_vectors(output_dir: str | os.PathLike[str]) -> list[list[float]]:
    """The vectors of a finished folder, one per text, in the order of the texts."""
    folder = Path(output_dir)
    manifest = json.loads((folder / MANIFEST).read_text())
    texts, batch_size = manifest["texts"], manifest["batch_size"]
    vectors: list[list[float]] = []
    for index in range(-(-texts // batch_size)):
        path = batch_path(folder, index)
        if not path.exists():
            raise ClovaConfigurationError(f"{path.name} is missing: run the job again to finish")
        values: array[float] = array(VECTOR_TYPE)
        values.frombytes(path.read_bytes())
        count = min(batch_size, texts - index * batch_size)
        width = len(values) // count
        vectors.extend(values[row * width : (row + 1) * width].tolist() for row in range(count))
    return vectors
