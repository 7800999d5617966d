"""The live options: one immutable snapshot, swapped atomically when any option changes."""

from __future__ import annotations

from collections.abc import Mapping

from clinx.config.options import OptionRegistry, OptionsSnapshot


class LiveOptions:
    def __init__(self, registry: OptionRegistry) -> None:
        self.registry = registry
        self._stored: dict[str, str] = {}
        self._current = registry.snapshot({}, version=0)

    @property
    def current(self) -> OptionsSnapshot:
        return self._current

    @property
    def stored(self) -> Mapping[str, str]:
        return dict(self._stored)

    def replace(self, stored: Mapping[str, str]) -> OptionsSnapshot:
        """Install a new snapshot from everything stored in the database."""
        self._stored = dict(stored)
        self._current = self.registry.snapshot(self._stored, version=self._current.version + 1)
        return self._current

    def apply(self, changes: Mapping[str, str]) -> OptionsSnapshot:
        """Install a new snapshot with ``changes`` on top of what is stored."""
        merged = dict(self._stored)
        merged.update(changes)
        return self.replace(merged)
