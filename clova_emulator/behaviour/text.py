"""Lexical helpers shared by the reply generator, the tool chooser and the embeddings.

Everything here is Korean-aware: Hangul words lose their common trailing particles and
also contribute syllable bigrams, so ``서울은`` and ``서울의`` both match ``서울``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from clova_emulator.behaviour.tokenizer import is_hangul

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9'-]*|[0-9]+(?:\.[0-9]+)?|[\uac00-\ud7a3]+")
_NUMBER_RE = re.compile(r"(?<![A-Za-z0-9_.])-?\d+(?:\.\d+)?(?![A-Za-z0-9_])")
_HANGUL_WORD_RE = re.compile(r"[\uac00-\ud7a3]+")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SENTENCE_RE = re.compile(r"(?<=[.!?。])\s+|\n+")

# Longest first so that "에서" is stripped before "서" could be considered.
KOREAN_PARTICLES: tuple[str, ...] = (
    "으로부터",
    "에게서",
    "으로는",
    "에서는",
    "이라는",
    "에서",
    "에게",
    "으로",
    "부터",
    "까지",
    "하고",
    "이나",
    "라는",
    "처럼",
    "보다",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "의",
    "에",
    "로",
    "와",
    "과",
    "도",
    "만",
)
_PARTICLES_BY_LENGTH: tuple[tuple[int, frozenset[str]], ...] = tuple(
    (length, frozenset(particle for particle in KOREAN_PARTICLES if len(particle) == length))
    for length in sorted({len(particle) for particle in KOREAN_PARTICLES}, reverse=True)
)
"""The particles grouped by length, longest first: a word ends with at most one particle of
each length, so checking one suffix per length finds what the ordered scan would find."""

_STOPWORD_LINES = (
    "a an the and or but if then of to in on at by for with from into about as is are was were",
    "be been being do does did done have has had i you he she it we they me my your our their",
    "this that these those what which who whom whose when where why how can could should would",
    "will shall may might must please tell give show use using used just also any some all not",
    "no yes so than too very there here its it's let lets value get call function tool question",
    "answer context query information following based only according",
)
STOPWORDS = frozenset(" ".join(_STOPWORD_LINES).split())
KOREAN_STOPWORDS = frozenset(
    " ".join(
        (
            "무엇 어떻게 어떤 언제 어디 누구 왜 알려줘 알려주세요 주세요 해줘 해주세요",
            "입니다 있나요 뭐야 뭔가요 그리고 그런데 하지만",
        )
    ).split()
)


def has_hangul(text: str) -> bool:
    """Whether ``text`` contains any Hangul (the reply language switch)."""
    return any(is_hangul(char) for char in text)


def strip_particle(word: str) -> str:
    """A Hangul word without one common trailing particle (kept if it would become empty)."""
    for length, particles in _PARTICLES_BY_LENGTH:
        if len(word) > length and word[-length:] in particles:
            return word[:-length]
    return word


def words(text: str) -> list[str]:
    """Words of ``text`` in order: ASCII words, numbers and Hangul runs (unchanged)."""
    return _WORD_RE.findall(text)


def split_identifier(name: str) -> list[str]:
    """``get_current_weather`` / ``getWeather`` -> lower-cased parts."""
    parts: list[str] = []
    for chunk in re.split(r"[_\-\s.]+", name):
        parts.extend(piece.lower() for piece in _CAMEL_RE.split(chunk) if piece)
    return parts


def content_terms(text: str) -> list[str]:
    """Normalised content words: lower-cased, particles stripped, stopwords dropped."""
    terms: list[str] = []
    for word in words(text):
        if has_hangul(word):
            stem = strip_particle(word)
            if stem not in KOREAN_STOPWORDS and word not in KOREAN_STOPWORDS:
                terms.append(stem)
            continue
        lowered = word.lower()
        if len(lowered) >= 2 and lowered not in STOPWORDS:
            terms.append(lowered)
    return terms


def hangul_bigrams(text: str) -> list[str]:
    """Syllable bigrams inside each Hangul run (single syllables for one-syllable runs)."""
    grams: list[str] = []
    for run in _HANGUL_WORD_RE.findall(text):
        if len(run) == 1:
            grams.append(run)
        grams.extend(run[index : index + 2] for index in range(len(run) - 1))
    return grams


def term_set(text: str) -> set[str]:
    """The bag used for lexical overlap: content terms plus Hangul bigrams."""
    return set(content_terms(text)) | {f"#{gram}" for gram in hangul_bigrams(text)}


def overlap(query: Iterable[str], document: Iterable[str]) -> int:
    """Size of the intersection of two term collections."""
    return len(set(query) & set(document))


def numbers(text: str) -> list[float]:
    """Numbers appearing in ``text`` in order (not those glued to letters such as ``v3``)."""
    found: list[float] = []
    for match in _NUMBER_RE.finditer(text):
        found.append(float(match.group()))
    return found


def sentences(text: str) -> list[str]:
    """``text`` split into sentences (rough, language-agnostic)."""
    return [part.strip() for part in _SENTENCE_RE.split(text) if part and part.strip()]


def keywords(text: str, limit: int = 5) -> list[str]:
    """Up to ``limit`` distinct content words of ``text`` in order of appearance."""
    seen: list[str] = []
    for word in words(text):
        if has_hangul(word):
            candidate = strip_particle(word)
            if candidate in KOREAN_STOPWORDS or word in KOREAN_STOPWORDS:
                continue
        else:
            if len(word) < 3 or word.lower() in STOPWORDS or word.isdigit():
                continue
            candidate = word
        if candidate.lower() not in (item.lower() for item in seen):
            seen.append(candidate)
        if len(seen) >= limit:
            break
    return seen


def join_list(items: list[str], *, korean: bool) -> str:
    """``a, b and c`` (or ``a, b, c`` in Korean)."""
    if korean or len(items) < 2:
        return ", ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
