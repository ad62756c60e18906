"""What a table's rows have used so far: its key memories.

The generated row function and the slow path both read and fill them; the parallel split
(`split.py`) hands a child's memories back to the parent as a `KeySnapshot` and asks whether
the two parts collide. One object, so neither has to know how the other stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class KeySnapshot:
    """The keys alone (picklable): the row numbers they map to only serve later rows' errors."""

    rows: int
    primary: list
    unique: dict[int, list]
    references: list[set]


@dataclass(frozen=True)
class KeyMemory:
    """``primary``: primary-key value (bare for one field) -> its row number; ``unique``: column
    index -> value -> row number; ``references``: per collected field tuple, the values other
    resources refer to by foreign key."""

    primary: dict = field(default_factory=dict)
    unique: dict[int, dict] = field(default_factory=dict)
    references: list[set] = field(default_factory=list)

    def snapshot(self, rows: int) -> KeySnapshot:
        return KeySnapshot(
            rows=rows,
            primary=list(self.primary),
            unique={i: list(seen) for i, seen in self.unique.items()},
            references=list(self.references),
        )

    def collides(self, other: KeySnapshot) -> bool:
        """Whether a key of `other` (a later part of the table) was already used here."""
        if not self.primary.keys().isdisjoint(other.primary):
            return True
        return any(not seen.keys().isdisjoint(other.unique[i]) for i, seen in self.unique.items())

    def take_references(self, other: KeySnapshot) -> None:
        """Add the referenced values `other` saw. The key memories themselves are not merged:
        they only serve rows still to come, and a part taken whole ends the table."""
        for refs, more in zip(self.references, other.references):
            refs |= more
