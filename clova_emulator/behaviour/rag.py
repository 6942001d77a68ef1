"""Answers grounded in context passages carried by the prompt (RAG).

Context is recognised in two ways:

* the last user message has a question marker (``Question:``, ``Query:``, ``Q:``, ``질문:``,
  ``질의:``): the text before it (and any system message) holds the passages;
* a system message with several passages (paragraphs, else lines) or a context word
  ("context", "documents", "문맥", "참고", "문서" ...): the last user message is the question.

Rule lines (``-----``) separate passages like blank lines do, and the instruction lines of
common prompt templates ("Context information is below.", "Given the context information
..., answer the query.", "You are an expert Q&A system ...", numbered rules) are not passages,
so they are never quoted as if they were context.

Passages are ranked by lexical overlap with the question (content words plus Korean syllable
bigrams, so particles do not hide a match); the best one is quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clova_emulator.behaviour.conversation import ChatCall
from clova_emulator.behaviour.text import has_hangul, sentences, term_set

_QUESTION_RE = re.compile(
    r"(?:^|\n)[ \t]*(?:#+[ \t]*)?(?:question|query|q|질문|질의)[ \t]*[:\uff1a][ \t]*", re.IGNORECASE
)
_ANSWER_TAIL_RE = re.compile(
    r"\n[ \t]*(?:answer|답변|답)[ \t]*[:\uff1a].*\Z", re.IGNORECASE | re.DOTALL
)
_LABEL_RE = re.compile(
    r"^[ \t]*(?:#+[ \t]*)?(?:context|contexts|documents?|passages?|sources?|문맥|참고[ \t]*자료|"
    r"참고|자료|문서|컨텍스트)[ \t]*[:\uff1a]?[ \t]*",
    re.IGNORECASE,
)
_CONTEXT_WORD_RE = re.compile(
    r"context|document|passage|retrieved|문맥|참고|문서|자료|컨텍스트", re.IGNORECASE
)
_RULE_RE = re.compile(r"^[\s\-=_*#~]+$")
_INSTRUCTION_RE = re.compile(
    r"^[ \t]*(?:\d+[.)][ \t]*)?(?:context information is below|given the context|"
    r"using the (?:provided )?context|use the (?:following|provided|given)|"
    r"based on the (?:context|documents)|answer the (?:query|question)|always answer|"
    r"some rules to follow|never directly reference|avoid statements like|you are an? |"
    r"the following (?:is|are) |below (?:is|are) |다음 문맥|아래 문맥|주어진 문맥|"
    r"문맥을 바탕으로|다음 정보를|아래 정보를)",
    re.IGNORECASE,
)
_MAX_QUOTE = 300


@dataclass(frozen=True)
class RagPrompt:
    """A question and the passages it should be answered from."""

    question: str
    passages: list[str]
    explicit: bool
    """True when a question / context marker made the RAG intent explicit."""


def split_passages(text: str) -> list[str]:
    """Paragraphs of ``text`` (lines when there is one paragraph), with labels, rule lines and
    template instructions removed."""
    kept = [
        "" if _RULE_RE.match(line) else line
        for line in text.splitlines()
        if not _INSTRUCTION_RE.match(line)
    ]
    text = "\n".join(kept)
    blocks = [block for block in re.split(r"\n[ \t]*\n", text) if block.strip()]
    if len(blocks) <= 1:
        blocks = [line for line in text.splitlines() if line.strip()]
    passages: list[str] = []
    for block in blocks:
        lines = block.splitlines()
        cleaned = _LABEL_RE.sub("", "\n".join(lines)).strip()
        if cleaned and any(char.isalnum() for char in cleaned):
            passages.append(cleaned)
    return passages


def find_rag(call: ChatCall) -> RagPrompt | None:
    """The RAG reading of ``call``, or ``None`` when the prompt carries no context."""
    request = call.request_text()
    systems = [turn.text for turn in call.turns if turn.role == "system" and turn.text.strip()]
    markers = list(_QUESTION_RE.finditer(request))
    if markers:
        last = markers[-1]
        question = _ANSWER_TAIL_RE.sub("", request[last.end() :]).strip()
        passages = split_passages(request[: last.start()])
        for system in systems:
            passages.extend(split_passages(system))
        if question and passages:
            return RagPrompt(question, passages, explicit=True)
    for system in systems:
        passages = split_passages(system)
        explicit = bool(_CONTEXT_WORD_RE.search(system))
        if request.strip() and (len(passages) >= 2 or (explicit and passages)):
            return RagPrompt(request.strip(), passages, explicit=explicit)
    return None


def _best(question: str, candidates: list[str]) -> tuple[str, int]:
    wanted = term_set(question)
    scored = [
        (len(wanted & term_set(candidate)), -index) for index, candidate in enumerate(candidates)
    ]
    best_score, best_index = max(scored)
    return candidates[-best_index], best_score


def rag_answer(prompt: RagPrompt) -> str | None:
    """A quote of the best passage; ``None`` (fall back to a plain reply) for an implicit
    context that does not match the question at all."""
    korean = has_hangul(prompt.question)
    passage, found = _best(prompt.question, prompt.passages)
    if found == 0:
        if not prompt.explicit:
            return None
        if korean:
            return "제공된 문맥에서 답을 찾을 수 없습니다."
        return "I could not find the answer in the provided context."
    if len(passage) > _MAX_QUOTE:
        parts = sentences(passage)
        if len(parts) > 1:
            passage, _ = _best(prompt.question, parts)
    quote = " ".join(passage.split())
    if korean:
        return f'제공된 문맥에 따르면: "{quote}"'
    return f'According to the provided context: "{quote}"'
