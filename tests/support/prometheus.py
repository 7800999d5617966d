"""A tiny, strict parser of Prometheus' text format (0.0.4) for tests: it fails on any line it does not
understand, so a malformed exposition cannot pass a test that only looks for one sample."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
_COMMENT = re.compile(rf"^# (HELP|TYPE) ({_NAME}) ?(.*)$")
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def _unescape(value: str) -> str:
    return re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m.group(0)], value)


def _labels(text: str) -> frozenset[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _LABEL.match(text, position)
        assert match is not None, f"bad label set {text!r} at {position}"
        found.append((match.group(1), _unescape(match.group(2))))
        position = match.end()
    return frozenset(found)


@dataclass
class Exposition:
    types: dict[str, str] = field(default_factory=dict)
    helps: dict[str, str] = field(default_factory=dict)
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = field(default_factory=dict)

    def value(self, name: str, **labels: str) -> float:
        """The sample with exactly these labels; 0 when it is absent (a counter not yet incremented)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` whose labels include ``labels`` (other labels summed over)."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= ls)


def parse(text: str) -> Exposition:
    assert text.endswith("\n"), "the exposition must end with a line feed"
    out = Exposition()
    for line in text.splitlines():
        comment = _COMMENT.match(line)
        if comment:
            kind, name, rest = comment.groups()
            target = out.types if kind == "TYPE" else out.helps
            assert name not in target, f"second {kind} line for {name}"
            target[name] = rest
            continue
        match = _SAMPLE.match(line)
        assert match is not None, f"unparseable line {line!r}"
        name, label_text, value = match.groups()
        key = (name, _labels(label_text or ""))
        assert key not in out.samples, f"duplicate sample {line!r}"
        out.samples[key] = float(value)
    for name, _ in out.samples:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in out.types or base in out.types, f"sample {name} has no TYPE line"
    return out
