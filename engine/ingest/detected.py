"""What detection hands to the rest of the import: `FileSniff` (how one file is split and what its
columns are), `DetectedFormat` (the files with their roles, the column mapping and the rating scale)
and `Preview` (the wizard's first rows). Records only; sniffing and recognising live in
engine.ingest.sniff and engine.ingest.formats."""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import InputError, shorten
from engine.ingest.mapping import Col, Mapping, norm
from engine.ingest.textio import describe_delimiter


@dataclass(frozen=True)
class FileSniff:
    """What one file looks like: how to split it and what its columns are."""
    path: str
    encoding: str
    delimiter: str
    has_header: bool
    columns: tuple[str, ...]           # header names, or "column 1", "column 2"...
    compressed: bool = False
    sample: tuple[tuple[str, ...], ...] = ()   # the first data rows, parsed

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    @property
    def delimiter_name(self) -> str:
        return describe_delimiter(self.delimiter)

    def index(self, col: Col, what: str) -> int:
        """0-based index of a column given by name or number; InputError naming the file when absent."""
        if isinstance(col, int):
            if 0 <= col < self.n_columns:
                return col
            raise InputError(f"there is no column {col + 1} for the {what} (the file has {self.n_columns} "
                             f"columns)", path=self.path, line=1, column=col + 1)
        if self.has_header:
            for k, name in enumerate(self.columns):
                if name == col:
                    return k
            for k, name in enumerate(self.columns):
                if norm(name) == norm(str(col)):
                    return k
        raise InputError(f"missing column for the {what}; the columns are: "
                         f"{', '.join(shorten(c, quote=False) for c in self.columns)}",
                         path=self.path, line=1, column=str(col))

    def label(self, k: int) -> str | int:
        """How errors name column k: its header name, else its 1-based number."""
        return self.columns[k] if self.has_header else k + 1


@dataclass(frozen=True)
class DetectedFormat:
    """A recognised import: the files with their roles, the column mapping and the rating scale."""
    name: str                               # movielens-100k | movielens | movietweetings | csv
    interactions: FileSniff
    items: FileSniff | None = None
    tags: FileSniff | None = None
    mapping: Mapping = field(default_factory=Mapping)
    rating_min: float | None = None
    rating_max: float | None = None
    positive_threshold: float | None = None
    notes: tuple[str, ...] = ()
    ambiguous: tuple[tuple[str, tuple[str, ...]], ...] = ()   # (role, candidate columns) left for the user

    # the interactions file's shape, for the wizard's first page
    @property
    def delimiter(self) -> str:
        return self.interactions.delimiter

    @property
    def has_header(self) -> bool:
        return self.interactions.has_header

    @property
    def encoding(self) -> str:
        return self.interactions.encoding

    @property
    def columns(self) -> tuple[str, ...]:
        return self.interactions.columns

    @property
    def paths(self) -> list[str]:
        return [f.path for f in (self.interactions, self.items, self.tags) if f is not None]


@dataclass(frozen=True)
class Preview:
    columns: tuple[str, ...]
    has_header: bool
    rows: list[list[str]]
    delimiter: str
    encoding: str
