"""Extractive summaries (``/v1/api-tools/summarization/v2``): the text's central sentences.

Each sentence is scored by how often its content words occur in all the texts (words the
texts keep coming back to are what they are about), divided by the square root of its word
count so long sentences do not win by length, and by 1.5 for a text's first sentence (which
usually states its topic). The best third of the sentences (at least one;
``segCount`` sentences when it is >= 1) is returned in text order, so a summary only ever
says what the texts say. ``segMaxSize`` / ``segMinSize`` shape the service's internal
segmentation, which the emulator does not model [gap].
"""

from __future__ import annotations

import math
from collections import Counter

from clova_emulator.behaviour.text import content_terms
from clova_emulator.behaviour.text import sentences as split_sentences

LEAD_BONUS = 1.5


def summarize(texts: list[str], *, seg_count: int = -1, split_sentences_: bool = True) -> str:
    """A summary of ``texts`` made of their most central sentences, in order."""
    units: list[str] = []
    leads: set[int] = set()
    for text in texts:
        leads.add(len(units))
        units.extend(split_sentences(text) if split_sentences_ else [text.strip()])
    if not units:
        return ""
    frequency = Counter(term for unit in units for term in content_terms(unit))

    def centrality(unit: str) -> float:
        terms = content_terms(unit)
        return sum(frequency[t] for t in terms) / math.sqrt(len(terms)) if terms else 0.0

    def weight(index: int) -> float:
        # Lead bias: a text's first sentence usually states its topic.
        return centrality(units[index]) * (LEAD_BONUS if index in leads else 1.0)

    wanted = seg_count if seg_count >= 1 else max(1, round(len(units) / 3))
    ranked = sorted(range(len(units)), key=lambda i: (-weight(i), i))
    chosen = sorted(ranked[: min(wanted, len(units))])
    return " ".join(units[i] for i in chosen)
