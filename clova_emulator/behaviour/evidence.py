"""Values found in a request's text, handed out in order to fill JSON-Schema slots.

Used for tool-call arguments and structured outputs: numbers in the order they appear,
quoted text, then names in the order they appear (a word after a cue such as "in Seoul" or
"called Bob", capitalised words, Hangul nouns with particles stripped). Values come only from
the request: when a slot has no value here, :class:`MissingValueError` tells the caller,
which then asks for it instead of inventing one.
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
_FROM_RE = re.compile(r"(-?\d+(?:\.\d+)?)\s+from\s+(-?\d+(?:\.\d+)?)")
_DATE_RE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_IMPERATIVE_LINES = (
    "find search calculate compute multiply add subtract divide convert look check list create",
    "make send book write translate summarize summarise explain describe what's whats hi hello",
    "set run get show tell give please compare count extract parse read return fill answer",
)
# A sentence-initial name followed by one of these is the sentence's subject ("Seoul is ...");
# other sentence-initial capitalised words are more often instructions and go last.
_SUBJECT_VERBS = frozenset(
    ["is", "are", "was", "were", "has", "have", "lies", "sits", "remains", "became"]
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


# Lower-case words after a cue that are not names ("the weather for today").
_NOT_NAMES = frozenset(
    {"today", "tomorrow", "tonight", "now", "me", "you", "us", "them", "it", "this", "that"}
    | {"there", "here", "general", "example", "instance", "sure"}
)


def _capitalised(text: str) -> list[tuple[int, str]]:
    """Capitalised words (or runs of them) with their positions, without leading stopwords
    and without a sentence-initial imperative ("Tell", "Add")."""
    found: list[tuple[int, str]] = []
    for match in _CAPITALISED_RE.finditer(text):
        parts = match.group(1).split()
        stripped = 0
        while stripped < len(parts) and parts[stripped].lower() in STOPWORDS:
            stripped += 1
        if stripped == len(parts):
            continue
        before = text[: match.start()].rstrip(" \t")
        sentence_start = not before or before[-1] in ".!?\n:\"'("
        if not stripped and sentence_start and parts[0].lower() in _IMPERATIVES:
            stripped = 1
            if len(parts) == 1:
                continue
        offset = match.start() + len(" ".join(parts[:stripped])) + (1 if stripped else 0)
        following = text[match.end() :].split(maxsplit=1)
        if (
            sentence_start
            and not stripped
            and following[:1] != []
            and (following[0].lower() not in _SUBJECT_VERBS)
        ):
            offset += len(text)
        found.append((offset, " ".join(parts[stripped:])))
    return found


def _cued(text: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for match in _CUE_RE.finditer(text):
        value = match.group(1)
        if value[0].islower() and value.lower() in _NOT_NAMES:
            continue
        found.append((match.start(1), value))
    return found


def _hangul_nouns(text: str, exclude: set[str]) -> list[tuple[int, str]]:
    nouns: list[tuple[int, str]] = []
    for match in _HANGUL_RE.finditer(text):
        run = match.group(0)
        if run in KOREAN_STOPWORDS or run.endswith(_VERB_ENDINGS):
            continue
        stem = strip_particle(run)
        if stem in KOREAN_STOPWORDS or stem in exclude:
            continue
        nouns.append((match.start(), stem))
    return nouns


def name_candidates(text: str, exclude: set[str]) -> list[str]:
    """Likely names and entities in the order they appear, without duplicates, stopwords or
    excluded words. Order matters: slots are filled in schema order, and people name things in
    the order a schema lists them far more often than not ("Seoul is in South Korea")."""
    found: list[str] = []
    for _, value in sorted([*_cued(text), *_capitalised(text), *_hangul_nouns(text, exclude)]):
        cleaned = value.strip(" .,!?;:")
        key = cleaned.lower()
        if not cleaned or key in STOPWORDS or key in exclude or key in _NOT_NAMES:
            continue
        if key in {item.lower() for item in found}:
            continue
        if any(key in item.lower().split() for item in found):
            continue
        found = [item for item in found if item.lower() not in key.split()]
        found.append(cleaned)
    return found


class MissingValueError(LookupError):
    """No value for a slot in the request; the model should ask for it instead of guessing."""

    def __init__(self, slot: str) -> None:
        super().__init__(slot)
        self.slot = slot


class Evidence:
    """A cursor over the values found in ``text``; each value is handed out once."""

    def __init__(self, text: str, exclude: Iterable[str] = (), *, strict: bool = False) -> None:
        """``strict``: a slot without a value in the text raises :class:`MissingValueError` (tool
        arguments); otherwise a schema-valid stand-in is used (structured output, which must
        answer in the schema, and forced tool calls)."""
        self.text = text
        self.strict = strict
        self.exclude = {item.lower() for item in exclude}
        # "subtract 5 from 12": the number after "from" is the first operand.
        self._numbers = deque(numbers(_FROM_RE.sub(r"\2 \1", text)))
        self._quoted = deque(quoted_strings(text))
        self._names = deque(name_candidates(text, self.exclude))
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
        """Quoted text, else a name candidate, else (not strict) the word best matching
        ``hint``; strict: :class:`MissingValueError`."""
        for queue in (self._quoted, self._names):
            while queue:
                value = queue.popleft()
                if value not in self._used:
                    self._used.add(value)
                    return value
        if self.strict:
            raise MissingValueError(hint)
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
