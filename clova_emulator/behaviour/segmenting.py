"""Topic segmentation (``/v1/api-tools/segmentation``): deterministic, lexical, explainable.

The real service compares sentence embeddings; the emulator scores the gap between each pair
of adjacent sentences instead:

    gap = 0.5 * (a line break separates them) + 0.5 * (1 - similarity)

where similarity is the share of content words that the two sentences before the gap and the
two after it have in common (particles stripped, stopwords dropped). A paragraph starts where
``gap >= 0.75 - 0.25 * alpha``: at ``alpha`` 0 (the default) where a line break meets a change
of vocabulary; at higher ``alpha`` also inside a line where the vocabulary changes completely.
``alpha`` -100 ("automatic") is 0 for text with line breaks and 1 for text without.
``segCnt`` >= 1 instead keeps the ``segCnt - 1`` widest gaps. With ``postProcess`` paragraphs
shorter than ``postProcessMinSize`` characters are merged into the next one and paragraphs
longer than ``postProcessMaxSize`` are split between sentences (inside a sentence when one
sentence alone is too long).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clova_emulator.behaviour.text import content_terms

_LINE_RE = re.compile(r"[^\n]+")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?。])\s+")
AUTO_ALPHA = -100.0


@dataclass(frozen=True)
class Sentence:
    text: str
    new_line: bool
    """A line break precedes this sentence."""


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` in order, each marked when it starts a new line."""
    out: list[Sentence] = []
    for line in _LINE_RE.finditer(text):
        first = True
        for piece in _SENTENCE_END_RE.split(line.group()):
            if piece.strip():
                out.append(Sentence(piece.strip(), new_line=first and bool(out)))
                first = False
    return out


def _similarity(left: list[set[str]], right: list[set[str]]) -> float:
    a, b = set().union(*left), set().union(*right)
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def gaps(sentences: list[Sentence]) -> list[float]:
    """The gap score between sentence ``i`` and ``i + 1``, for every ``i``."""
    terms = [set(content_terms(s.text)) for s in sentences]
    scores: list[float] = []
    for index in range(len(sentences) - 1):
        similarity = _similarity(terms[max(0, index - 1) : index + 1], terms[index + 1 : index + 3])
        scores.append(0.5 * sentences[index + 1].new_line + 0.5 * (1 - similarity))
    return scores


def segment(
    text: str,
    *,
    alpha: float = 0.0,
    seg_count: int = -1,
    post_process: bool = False,
    max_size: int = 1000,
    min_size: int = 300,
) -> list[list[tuple[int, str]]]:
    """Paragraphs as lists of (sentence index, sentence text)."""
    sentences = split_sentences(text)
    if not sentences:
        return []
    scores = gaps(sentences)
    if seg_count >= 1:
        widest = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[: seg_count - 1]
        breaks = set(widest)
    else:
        if alpha == AUTO_ALPHA:
            alpha = 0.0 if any(s.new_line for s in sentences) else 1.0
        threshold = 0.75 - 0.25 * alpha
        breaks = {i for i, score in enumerate(scores) if score >= threshold - 1e-9}
    paragraphs: list[list[tuple[int, str]]] = [[]]
    for index, sentence in enumerate(sentences):
        paragraphs[-1].append((index, sentence.text))
        if index in breaks:
            paragraphs.append([])
    if post_process:
        paragraphs = _post_process(paragraphs, max_size, max(min_size, 0))
    return [p for p in paragraphs if p]


def _size(paragraph: list[tuple[int, str]]) -> int:
    return sum(len(text) for _, text in paragraph) + max(len(paragraph) - 1, 0)


def _post_process(
    paragraphs: list[list[tuple[int, str]]], max_size: int, min_size: int
) -> list[list[tuple[int, str]]]:
    merged: list[list[tuple[int, str]]] = []
    for paragraph in paragraphs:
        if merged and _size(merged[-1]) < min_size:
            merged[-1] = merged[-1] + paragraph
        else:
            merged.append(list(paragraph))
    if len(merged) > 1 and _size(merged[-1]) < min_size:
        last = merged.pop()
        merged[-1] = merged[-1] + last
    out: list[list[tuple[int, str]]] = []
    for paragraph in merged:
        current: list[tuple[int, str]] = []
        for index, sentence in paragraph:
            rest = sentence
            while len(rest) > max_size:  # one sentence longer than a paragraph may be
                if current:
                    out.append(current)
                    current = []
                out.append([(index, rest[:max_size])])
                rest = rest[max_size:]
            if current and _size([*current, (index, rest)]) > max_size:
                out.append(current)
                current = []
            if rest:
                current.append((index, rest))
        if current:
            out.append(current)
    return out
