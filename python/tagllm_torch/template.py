"""Templates, as src/runtime/tags/template.ts and name.ts define them.

A template is text with tag placeholders (``<SMILES>``) and input slots (``{smiles}``). Filling
drops whitespace touching a tag and yields text runs and tags; each run is tokenized on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence, Union

TAG_NAME = re.compile(r"^<[A-Za-z][A-Za-z0-9_-]{0,63}>$")
_PLACEHOLDER = re.compile(r"<[A-Za-z][A-Za-z0-9_-]{0,63}>|\{[a-z][a-z0-9_]*\}")


def is_tag_name(text: str) -> bool:
    return TAG_NAME.match(text) is not None


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Tag:
    tag: str


@dataclass(frozen=True)
class Slot:
    slot: str


Segment = Union[Text, Tag, Slot]
Piece = Union[Text, Tag]


@dataclass(frozen=True)
class Template:
    text: str
    segments: tuple[Segment, ...]

    @property
    def tags(self) -> list[str]:
        """Distinct tag names in order of first appearance."""
        return list(dict.fromkeys(s.tag for s in self.segments if isinstance(s, Tag)))

    @property
    def slots(self) -> list[str]:
        return list(dict.fromkeys(s.slot for s in self.segments if isinstance(s, Slot)))

    @property
    def last_tag(self) -> str:
        """Where a function tag sits, and so where a head reads."""
        for s in reversed(self.segments):
            if isinstance(s, Tag):
                return s.tag
        raise ValueError(f'template "{self.text}" has no tag')


def parse_template(text: str) -> Template:
    segments: list[Segment] = []
    last = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > last:
            segments.append(Text(text[last : match.start()]))
        token = match.group(0)
        segments.append(Slot(token[1:-1]) if token.startswith("{") else Tag(token))
        last = match.end()
    if last < len(text):
        segments.append(Text(text[last:]))
    template = Template(text, tuple(segments))
    if not template.tags:
        raise ValueError(f'template "{text}" has no tag placeholder such as <SMILES>')
    return template


def _js_trim(text: str) -> str:
    # String.prototype.trim: the same whitespace as Python's str.strip for every character a template or input holds
    return text.strip()


def fill_template(template: Template, values: Mapping[str, str]) -> list[Piece]:
    missing = [s for s in template.slots if not isinstance(values.get(s), str)]
    if missing:
        needs = ", ".join("{" + s + "}" for s in missing)
        raise ValueError(f'template "{template.text}" needs {needs}')
    pieces: list[Piece] = []
    run = ""
    for segment in template.segments:
        if isinstance(segment, Tag):
            if _js_trim(run):
                pieces.append(Text(_js_trim(run)))
            run = ""
            pieces.append(segment)
        elif isinstance(segment, Text):
            run += segment.text
        else:
            run += values[segment.slot]
    if _js_trim(run):
        pieces.append(Text(_js_trim(run)))
    return pieces


def slot_values(slots: Sequence[str], inputs: Sequence[str]) -> dict[str, str]:
    return dict(zip(slots, inputs))
