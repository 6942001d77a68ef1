"""The demo's bundled corpus, questions and tools (plain Python: no framework imports).

No ``from __future__ import annotations`` here: the frameworks read the tool signatures' type
hints at run time (``Literal`` must resolve).
"""

import json
from dataclasses import dataclass
from importlib import resources
from typing import Literal


@dataclass(frozen=True)
class Passage:
    id: str
    lang: str
    text: str


@dataclass(frozen=True)
class Question:
    text: str
    passage_id: str
    """The corpus passage that holds the answer."""
    fact: str
    """A string the answer must contain to count as answered from that passage."""


def load_corpus() -> list[Passage]:
    """The bundled passages (Korean and English), in file order."""
    raw = resources.files("clova_demo").joinpath("corpus.jsonl").read_text(encoding="utf-8")
    return [Passage(**json.loads(line)) for line in raw.splitlines() if line.strip()]


LANGCHAIN_QUESTIONS = (
    Question("한라산의 높이는 몇 미터인가요?", "hallasan", "1947"),
    Question("When did the Seoul subway open its first line?", "seoul-subway", "1974"),
    Question("김장 문화는 언제 유네스코 인류무형문화유산에 등재되었나요?", "kimchi", "2013"),
)
LLAMAINDEX_QUESTIONS = (
    Question("What do the haenyeo women divers of Jeju harvest?", "haenyeo", "abalone"),
    Question("KTX로 서울역에서 부산역까지 얼마나 걸리나요?", "ktx", "2시간 30분"),
)
AGENT_QUESTION = "What is the weather in Busan today, and how much is 20 USD in Korean won?"

# Demo data, not live information: the tools must give the same answer every run.
_WEATHER = {"seoul": "clear, 18°C", "busan": "sunny, 21°C", "jeju": "windy, 19°C"}
_KRW_PER_UNIT = {"USD": 1400.0, "EUR": 1500.0, "JPY": 9.0}


class ToolLog:
    """Records which demo tools ran and whether their arguments made sense, so the demo can
    check that the agent really called them with the right values."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.bad_arguments: list[str] = []

    def get_weather(self, city: str) -> str:
        """Get today's weather for a Korean city (Seoul, Busan or Jeju)."""
        self.calls.append("get_weather")
        forecast = _WEATHER.get(city.strip().lower())
        if forecast is None:
            self.bad_arguments.append(f"get_weather(city={city!r})")
            return f"no forecast for {city}"
        return forecast

    def convert_currency(self, amount: float, currency: Literal["USD", "EUR", "JPY"]) -> str:
        """Convert an amount of money into Korean won (KRW)."""
        self.calls.append("convert_currency")
        rate = _KRW_PER_UNIT.get(currency.strip().upper())
        if rate is None:
            self.bad_arguments.append(f"convert_currency(currency={currency!r})")
            return f"unknown currency {currency}"
        return f"{amount:g} {currency.upper()} = {amount * rate:,.0f} KRW"


RAG_INSTRUCTIONS = (
    "Answer the question using only the context passages. Quote the fact you use.\n\n"
    "Context:\n{context}\n\nQuestion: {question}"
)


# --- the RAG toolkit pipeline: long documents made of the corpus ----------------------------

TOOLKIT_LANGCHAIN_QUESTION = Question("한라산의 높이는 몇 미터인가요?", "hallasan", "1947")
TOOLKIT_LLAMAINDEX_QUESTION = Question(
    "What do the haenyeo women divers of Jeju harvest?", "haenyeo", "abalone"
)


@dataclass(frozen=True)
class LongDocument:
    """The corpus passages of one language as one long text, one passage per line, so that
    segmentation has topic changes to find. ``starts`` are the passages' offsets."""

    id: str
    text: str
    starts: tuple[tuple[int, str], ...]

    def passage_at(self, offset: int) -> str:
        """The id of the passage containing character ``offset`` ("?" when unknown)."""
        found = "?"
        for start, passage_id in self.starts:
            if start <= offset:
                found = passage_id
        return found if offset >= 0 else "?"


def long_documents() -> list[LongDocument]:
    """Two long documents (Korean, English) built from the bundled passages."""
    documents: list[LongDocument] = []
    for lang in ("ko", "en"):
        passages = [p for p in load_corpus() if p.lang == lang]
        starts: list[tuple[int, str]] = []
        offset = 0
        for passage in passages:
            starts.append((offset, passage.id))
            offset += len(passage.text) + 1
        text = "\n".join(p.text for p in passages)
        documents.append(LongDocument(f"korea-{lang}", text, tuple(starts)))
    return documents
