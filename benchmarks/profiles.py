"""Profiles behind the report's diagnoses (not part of the timed run).

    python -m benchmarks.profiles imports   # what `from langchain_clova import ChatClovaX`
                                            # imports beyond BaseChatModel (-X importtime)
    python -m benchmarks.profiles embed     # client CPU per embedded text, no server

``imports`` runs ``-X importtime`` in fresh interpreters that first import the reference
(``BaseChatModel``), so every line printed is a module the class import adds, with its
cumulative time (median of runs). ``embed`` embeds texts one by one through an
``httpx.MockTransport`` answering at once, so the figure is the client's own CPU per text
(raw httpx, the core client, and both frameworks).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import netguard

REFERENCE = "from langchain_core.language_models import BaseChatModel"
OURS = "from langchain_clova import ChatClovaX"
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def import_diff(runs: int = 5, top: int = 30) -> None:
    """Modules (and their cumulative import time) that ``OURS`` adds to ``REFERENCE``."""
    code = f"{REFERENCE}\nimport sys\nprint('MARK', file=sys.stderr)\n{OURS}"
    cumulative: defaultdict[str, list[int]] = defaultdict(list)
    depth: dict[str, int] = {}
    totals = []
    for _ in range(runs):
        stderr = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True,
            text=True,
            env=netguard.offline_env(),
            check=True,
        ).stderr
        total = 0
        for line in stderr.split("MARK", 1)[1].splitlines():
            match = _LINE.match(line)
            if match:
                name, level = match.group(4), len(match.group(3)) // 2
                cumulative[name].append(int(match.group(2)))
                depth[name] = level
                total += int(match.group(2)) if level == 0 else 0
        totals.append(total)
    print(f"`{OURS}` after `{REFERENCE}`: +{statistics.median(totals) / 1000:.0f} ms")
    print("(-X importtime inflates times; compare the modules, not the absolute total)")
    ranked = sorted(((statistics.median(v), k) for k, v in cumulative.items()), reverse=True)
    for micros, name in ranked[:top]:
        print(f"{micros / 1000:7.1f} ms  {'  ' * depth[name]}{name}")


def embed_cpu(texts: int = 2000) -> None:
    """CPU microseconds per text, one request at a time, server replaced by a mock."""
    import json

    from benchmarks.embed_stacks import EMBED_MODEL, Transports, texts_for

    transports = Transports(mock_latency=0.0)
    corpus = texts_for(texts)
    raw = transports.sync_client()
    assert raw is not None
    url = f"http://127.0.0.1:9/v1/api-tools/embedding/{EMBED_MODEL}"
    headers = {"Authorization": "Bearer test-key"}

    def raw_embed(batch: Sequence[str]) -> object:
        return [json.loads(raw.post(url, json={"text": t}, headers=headers).content) for t in batch]

    from clova_core import ClovaClient
    from langchain_clova import ClovaXEmbeddings
    from llama_index_clova import ClovaXEmbedding

    core = ClovaClient(
        api_key="test-key", base_url="http://127.0.0.1:9", http_client=transports.sync_client()
    )
    langchain = ClovaXEmbeddings(
        api_key="test-key",
        base_url="http://127.0.0.1:9",
        http_client=transports.sync_client(),
        max_concurrency=1,
    )
    llama = ClovaXEmbedding(
        api_key="test-key",
        base_url="http://127.0.0.1:9",
        http_client=transports.sync_client(),
        max_concurrency=1,
    )
    cases: list[tuple[str, Callable[[list[str]], object]]] = [
        ("raw httpx + json.loads", raw_embed),
        ("clova_core ClovaClient.embed", lambda batch: [core.embed(t) for t in batch]),
        ("langchain_clova embed_documents", langchain.embed_documents),
        ("llama_index_clova get_text_embedding_batch", llama.get_text_embedding_batch),
    ]
    for name, action in cases:
        action(corpus[:50])
        spent = []
        for _ in range(3):
            started = time.process_time()
            action(corpus)
            spent.append((time.process_time() - started) / len(corpus) * 1e6)
        print(f"{name:45s} {statistics.median(spent):6.0f} us CPU per text")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiles")
    parser.add_argument("what", choices=("imports", "embed"))
    args = parser.parse_args(argv)
    netguard.install()
    if args.what == "imports":
        import_diff()
    else:
        embed_cpu()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
