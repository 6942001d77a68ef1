"""Relevance, cited answers and suggested queries for the reranker and RAG Reasoning.

A document's relevance to a query is lexical: twice the content words they share plus the
Hangul syllable bigrams they share (so particles do not hide a match). The documents an
answer relies on are those scoring at least 60% of the best (at most three, best first).
The answer quotes, from each of the first two, the sentence that best matches the query,
wrapped in ``<doc-{id}>`` ... ``</doc-{id}>`` (RAG Reasoning's documented form; the
reranker's exact form is a [gap], the same is used). No match: an answer without citations
that says so.
"""

# Wire format and what is documented: clova-api.md 10 and 10.1.

from __future__ import annotations

from dataclasses import dataclass

from clova_emulator.behaviour.text import content_terms, hangul_bigrams, has_hangul, keywords
from clova_emulator.behaviour.text import sentences as split_sentences

CITED_SHARE = 0.6
MAX_CITED = 3
MAX_QUOTED = 2


@dataclass(frozen=True)
class Doc:
    id: str
    doc: str


def _bag(text: str) -> tuple[set[str], set[str]]:
    return set(content_terms(text)), set(hangul_bigrams(text))


def relevance(query: str, text: str) -> int:
    """Shared content words (x2) plus shared Hangul bigrams."""
    query_terms, query_grams = _bag(query)
    terms, grams = _bag(text)
    return 2 * len(query_terms & terms) + len(query_grams & grams)


def cited(query: str, documents: list[Doc]) -> list[Doc]:
    """The documents the answer relies on, most relevant first (ties: input order)."""
    scored = [(relevance(query, d.doc), index, d) for index, d in enumerate(documents)]
    best = max((score for score, _, _ in scored), default=0)
    if best <= 0:
        return []
    keep = [item for item in scored if item[0] >= CITED_SHARE * best]
    keep.sort(key=lambda item: (-item[0], item[1]))
    return [d for _, _, d in keep[:MAX_CITED]]


def best_sentence(query: str, text: str) -> str:
    """The sentence of ``text`` that matches ``query`` best (the first on ties)."""
    parts = split_sentences(text) or [text.strip()]
    return max(parts, key=lambda s: (relevance(query, s), -parts.index(s)))


def cited_answer(query: str, documents: list[Doc]) -> str:
    """An answer quoting the best sentence of each of the first cited documents."""
    quoted = [
        f"<doc-{d.id}>{best_sentence(query, d.doc)}</doc-{d.id}>" for d in documents[:MAX_QUOTED]
    ]
    if quoted:
        return " ".join(quoted)
    if has_hangul(query):
        return "제공된 문서에서 질문에 대한 답을 찾지 못했습니다."
    return "The documents provided do not answer the question."


def suggested_queries(query: str, documents: list[Doc], limit: int = 3) -> list[str]:
    """Follow-up queries about the cited documents' other key words."""
    query_terms = {term.lower() for term in content_terms(query)}
    korean = has_hangul(query)
    out: list[str] = []
    for document in documents:
        for word in keywords(document.doc, limit=8):
            if len(word) < 2 or word.lower() in query_terms or any(word in q for q in out):
                continue
            out.append(f"{word}에 대해 더 알려주세요." if korean else f"Tell me more about {word}.")
            if len(out) >= limit:
                return out
    return out
