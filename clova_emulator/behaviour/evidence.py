"""Values found in a request's text, handed out in order to fill JSON-Schema slots.

Used for tool-call arguments and structured outputs: numbers in the order they appear,
quoted text, names after cue words ("in Seoul", "called Bob"), capitalised words, Hangul
nouns with particles stripped, and finally the word that best matches the slot's name.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence

from clova_emulator.behaviour.text import (
    KOREAN_STOPWORDS,
    STOPWORDS,
    content_terms,
    has_hangul,
    numbers,
    split_identifier,
    strip_particle,
    words,
)

_QUOTED_RE = re.compile(r"\"([^\"]+)\"|“([^”]+)”|「([^」]+)」|(?:(?<=\s)|^)'([^']+)'")
_CUE_RE = re.compile(
    r"\b(?:in|at|for|about|of|named|called|to|from|near|on|titled)\s+"
    r"((?:[A-Z][\w'-]*)(?:\s+[A-Z][\w'-]*)*|[a-z][\w'-]*)"
)
_CAPITALISED_RE = re.compile(r"\b([A-Z][a-zA-Z'-]+(?:[ \t]+[A-Z][a-zA-Z'-]+)*)")
_HANGUL_RE = re.compile(r"[\uac00-\ud7a3]+")
_VERB_ENDINGS = ("줘", "요", "다", "까", "니", "어", "해", "라", "지", "래", "자", "게")
_DATE_RE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_IMPERATIVE_LINES = (
    "find search calculate compute multiply add subtract divide convert look check list create",
    "make send book write translate summarize summarise explain describe what's whats hi hello",
    "set run get show tell give please compare count",
)
_IMPERATIVES = frozenset(" ".join(_IMPERATIVE_LINES).split())
_TRUE_WORDS = frozenset({"true", "yes", "enable", "enabled", "on", "예", "네", "참"})


def quoted_strings(text: str) -> list[str]:
    """Text inside double, typographic or single quotes, in order."""
    found: list[str] = []
    for match in _QUOTED_RE.finditer(text):
        value = next(group for group in match.groups() if group is not None)
        if value.strip():
            found.append(value.strip())
    return found


def _capitalised(text: str) -> list[str]:
    """Capitalised words (or runs of them) without leading stopwords; a run that starts a
    sentence with a non-stopword ("Seoul is ...") comes last unless it is an imperative verb."""
    inside: list[str] = []
    starting: list[str] = []
    for match in _CAPITALISED_RE.finditer(text):
        parts = match.group(1).split()
        stripped = 0
        while stripped < len(parts) and parts[stripped].lower() in STOPWORDS:
            stripped += 1
        if stripped == len(parts):
            continue
        phrase = " ".join(parts[stripped:])
        before = text[: match.start()].rstrip(" \t")
        if stripped or (before and before[-1] not in ".!?\n:\"'("):
            inside.append(phrase)
        elif parts[0].lower() not in _IMPERATIVES:
            starting.append(phrase)
    return inside + starting


def _hangul_nouns(text: str, exclude: set[str]) -> list[str]:
    nouns: list[str] = []
    for run in _HANGUL_RE.findall(text):
        if run in KOREAN_STOPWORDS or run.endswith(_VERB_ENDINGS):
            continue
        stem = strip_particle(run)
        if stem in KOREAN_STOPWORDS or stem in exclude:
            continue
        nouns.append(stem)
    return nouns


def name_candidates(text: str, exclude: set[str]) -> list[str]:
    """Likely names and entities, best first, without duplicates or excluded words."""
    found: list[str] = []

    def add(values: Iterable[str]) -> None:
        for value in values:
            cleaned = value.strip(" .,!?;:")
            key = cleaned.lower()
            if not cleaned or key in STOPWORDS or key in exclude:
                continue
            if cleaned not in found:
                found.append(cleaned)

    add(match.group(1) for match in _CUE_RE.finditer(text))
    add(_capitalised(text))
    add(_hangul_nouns(text, exclude))
    return found


class Evidence:
    """A cursor over the values found in ``text``; each value is handed out once."""

    def __init__(self, text: str, exclude: Iterable[str] = (), prefer: Iterable[str] = ()) -> None:
        """``prefer``: values (lower-cased) that go first when the text mentions them, such
        as the examples a tool's description lists."""
        self.text = text
        self.exclude = {item.lower() for item in exclude}
        self._numbers = deque(numbers(text))
        self._quoted = deque(quoted_strings(text))
        preferred = {item.lower() for item in prefer}
        names = name_candidates(text, self.exclude)
        self._names = deque(sorted(names, key=lambda name: name.lower() not in preferred))
        self._used: set[str] = set()

    def has_number(self) -> bool:
        """Whether an unused number remains."""
        return bool(self._numbers)

    def next_number(self) -> float | None:
        """The next number of the text, or ``None``."""
        return self._numbers.popleft() if self._numbers else None

    def has_string(self) -> bool:
        """Whether quoted text or a name candidate remains."""
        return bool(self._quoted or self._names)

    def next_string(self, hint: str) -> str:
        """Quoted text, else a name candidate, else the word best matching ``hint``."""
        for queue in (self._quoted, self._names):
            while queue:
                value = queue.popleft()
                if value not in self._used:
                    self._used.add(value)
                    return value
        return self.best_word(hint)

    def best_word(self, hint: str) -> str:
        """The content word of the text closest to ``hint`` (a slot name / description)."""
        hint_terms = set(split_identifier(hint)) | set(content_terms(hint))
        candidates = [
            strip_particle(word) if has_hangul(word) else word
            for word in words(self.text)
            if word.lower() not in STOPWORDS and not word.replace(".", "").isdigit()
        ]
        for word in candidates:
            if word.lower() in hint_terms and word not in self._used:
                return word
        unused = [
            word
            for word in candidates
            if word not in self._used and word.lower() not in self.exclude
        ]
        if unused:
            choice = max(unused, key=len)
            self._used.add(choice)
            return choice
        return self.text.strip()[:100] or hint or "value"

    def mentioned(self, options: Sequence[object]) -> object | None:
        """The first of ``options`` whose text appears in the request, else ``None``."""
        lowered = self.text.lower()
        for option in options:
            if isinstance(option, str) and option and option.lower() in lowered:
                return option
            if (
                isinstance(option, (int, float))
                and not isinstance(option, bool)
                and float(option) in self._numbers
            ):
                self._numbers.remove(float(option))
                return option
        return None

    def flag(self) -> bool:
        """A boolean read from the text ("yes", "true", "enable" ... -> True)."""
        return any(word.lower() in _TRUE_WORDS for word in words(self.text))

    def date(self) -> str | None:
        """The first ISO date in the text."""
        match = _DATE_RE.search(self.text)
        return match.group(1) if match else None

    def email(self) -> str | None:
        """The first e-mail address in the text."""
        match = _EMAIL_RE.search(self.text)
        return match.group(0) if match else None
