"""Reading text files of unknown origin: gzip by magic number, UTF-8 (BOM or not) with a Latin-1
fallback, old Mac line ends (CR alone) read as LF, binary and empty files refused, and chunks of whole
lines read as bytes so a large file is streamed, never held in memory.

Limits: a line (or a quoted field spanning lines) of MAX_LINE_BYTES (16 MB), so a field of up to that
size too (the csv module's own 128 KB field limit is raised to it), and MAX_COLUMNS (10,000) columns:
the widest real tables we know (a pivoted MovieLens tag genome) have about 1,100."""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from engine.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = codecs.BOM_UTF8
FALLBACK = "llmrec-latin1"      # codec error handler: undecodable bytes are read as Latin-1
WHITESPACE = " "               # the delimiter value meaning "runs of spaces/tabs"
DELIMITERS = ("::", "\t", ",", "|", ";", WHITESPACE)  # sniffing order = preference on ties
CSV_DELIMITERS = ("\t", ",", "|", ";")                # parsed by the csv module (quotes allowed)


def _latin1_fallback(err: UnicodeDecodeError):
    return err.object[err.start:err.end].decode("latin-1"), err.end


codecs.register_error(FALLBACK, _latin1_fallback)


def decode(raw: bytes, encoding: str) -> str:
    return raw.decode(encoding, FALLBACK)


class _CRLines(io.RawIOBase):
    """A stream whose lines end with CR alone (old Mac files) read with LF line ends, so the line
    reader, the chunker and line numbers work unchanged."""

    def __init__(self, inner: BinaryIO):
        self.inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.inner.read(len(b)).replace(b"\r", b"\n")
        b[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


def _cr_only(head: bytes) -> bool:
    return b"\r" in head and b"\n" not in head


@dataclass
class ByteSource:
    """An open file (gzip or plain) and how far through the file on disk we are."""
    path: Path
    stream: BinaryIO
    raw: BinaryIO
    total: int
    compressed: bool

    @property
    def bytes_read(self) -> int:
        try:
            return min(self.raw.tell(), self.total)
        except (OSError, ValueError):
            return self.total

    def close(self) -> None:
        self.stream.close()
        self.raw.close()

    def __enter__(self) -> "ByteSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_source(path: str | os.PathLike) -> ByteSource:
    """Open a file for streaming; `.gz` (recognised by its magic number) is decompressed on the fly, and
    a file whose first 64 KB hold CR line ends but no LF is read with LF line ends."""
    p = Path(path)
    try:
        raw = open(p, "rb")
    except FileNotFoundError:
        raise InputError("no such file", path=str(p)) from None
    except IsADirectoryError:
        raise InputError("is a folder, expected a file", path=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", path=str(p)) from None
    total = os.fstat(raw.fileno()).st_size
    compressed = raw.read(2) == GZIP_MAGIC
    raw.seek(0)
    stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw  # type: ignore[assignment]
    try:
        head = stream.read(1 << 16)
    except (OSError, EOFError, zlib.error):
        head = b""                      # a damaged gzip file: reported by the first real read
    raw.seek(0)
    if compressed:
        stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    if _cr_only(head):
        stream = io.BufferedReader(_CRLines(stream), 1 << 16)  # type: ignore[assignment]
    return ByteSource(p, stream, raw, total, compressed)


def _read(src: ByteSource, n: int = -1) -> bytes:
    try:
        return src.stream.read(n)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"is not a valid gzip file ({exc})", path=str(src.path)) from None


def read_sample(path: str | os.PathLike, size: int = 1 << 16) -> tuple[bytes, bool]:
    """The first `size` bytes (decompressed), cut at a line end; and whether that is the whole file."""
    with open_source(path) as src:
        data = _read(src, size)
        if len(data) == size and b"\n" not in data:
            data += _rest_of_line(src, data, 1)     # a wide header: sniffed whole, not cut at `size`
        whole = len(data) < size or not _read(src, 1)
    if not whole and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]
    return data, whole


def check_text(path: str | os.PathLike, sample: bytes) -> None:
    """Refuse empty and binary files with a message saying what was expected."""
    if not sample.strip():
        raise InputError("the file is empty; expected one interaction or item per line", path=str(path), line=1)
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError("is UTF-16 text; expected UTF-8 or Latin-1 (save it as UTF-8)", path=str(path), line=1)
    if b"\x00" in sample:
        line = sample[: sample.index(b"\x00")].count(b"\n") + 1
        raise InputError("is a binary file, not text; expected delimited text (CSV, TSV, '::' or '|')",
                         path=str(path), line=line)


def detect_encoding(sample: bytes) -> str:
    """'utf-8-sig' with a BOM, 'utf-8' when the sample decodes as UTF-8, else 'latin-1'."""
    if sample.startswith(UTF8_BOM):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"


MAX_LINE_BYTES = 16 << 20      # a longer line (or quoted field) is refused: memory stays bounded
MAX_COLUMNS = 10_000
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))   # a field may be as long as its line


def check_columns(path: str, n: int, header: bool) -> None:
    """Refuse a table wider than MAX_COLUMNS, saying so (not as a ragged row further on)."""
    if n > MAX_COLUMNS:
        what = "the header has" if header else "the first line has"
        raise InputError(f"{what} {n:,} columns, more than the limit of {MAX_COLUMNS:,}; expected a table of "
                         "interactions or items (is the delimiter right?)", path=path, line=1)


def _line_of(data: bytes, pos: int, start_line: int) -> int:
    return start_line + data.count(b"\n", 0, pos)


def _refuse_nul(src: ByteSource, data: bytes, start_line: int) -> None:
    at = data.find(b"\x00")
    if at >= 0:
        raise InputError("is a binary file, not text (a NUL byte); expected delimited text (CSV, TSV, '::' or '|')",
                         path=str(src.path), line=_line_of(data, at, start_line))


def _rest_of_line(src: ByteSource, data: bytes, start_line: int) -> bytes:
    """The rest of the current line, refused when the line is longer than MAX_LINE_BYTES."""
    more = _readline_limited(src, MAX_LINE_BYTES)
    if len(more) >= MAX_LINE_BYTES and not more.endswith(b"\n"):
        raise InputError(f"the line is longer than {MAX_LINE_BYTES >> 20} MB; expected one record per line "
                         "(is this a text file with line breaks?)", path=str(src.path),
                         line=_line_of(data, len(data), start_line))
    return more


def _readline_limited(src: ByteSource, limit: int) -> bytes:
    try:
        return src.stream.readline(limit)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"is not a valid gzip file ({exc})", path=str(src.path)) from None


def _open_quote_line(data: bytes, start_line: int) -> int:
    """Line of the quote that opens the field still open at the end of `data` (csv pairing)."""
    pos, k = -1, 0
    while True:
        nxt = data.find(b'"', pos + 1)
        if nxt < 0:
            break
        if k % 2 == 0:
            opener = nxt
        pos, k = nxt, k + 1
    return _line_of(data, opener, start_line)


def iter_chunks(src: ByteSource, chunk_bytes: int = 1 << 22, quote_aware: bool = False
                ) -> Iterator[tuple[int, bytes]]:
    """(number of the chunk's first line, bytes of whole lines); with `quote_aware`, a chunk never ends
    inside a double-quoted field (its quote count is even). A UTF-8 BOM is dropped. Linear in the
    input whatever it holds; refused with the line: a NUL byte anywhere, a line longer than
    MAX_LINE_BYTES, a quoted field that is never closed (or spans more than MAX_LINE_BYTES)."""
    line, first = 1, True
    while True:
        data = _read(src, chunk_bytes)
        if not data:
            return
        if not data.endswith(b"\n"):
            data += _rest_of_line(src, data, line)
        if quote_aware:
            odd = data.count(b'"') % 2
            parts, grown = [data], 0
            while odd:
                more = _readline_limited(src, MAX_LINE_BYTES)
                if not more or grown + len(more) > MAX_LINE_BYTES:
                    opened = _open_quote_line(b"".join(parts), line)
                    why = "is never closed" if not more else f"is not closed within {MAX_LINE_BYTES >> 20} MB"
                    raise InputError(f"a quoted field opened here (a \" character) {why}; expected a closing "
                                     "quote, or no quote", path=str(src.path), line=opened)
                grown += len(more)
                odd ^= more.count(b'"') % 2
                parts.append(more)
            data = b"".join(parts) if len(parts) > 1 else data
        _refuse_nul(src, data, line)
        if first:
            first = False
            if data.startswith(UTF8_BOM):
                data = data[len(UTF8_BOM):]
        yield line, data
        line += data.count(b"\n")


def split_rows(text: str, delimiter: str, start_line: int = 1, path: str | None = None
               ) -> list[tuple[int, list[str]]]:
    """Parse text (whole lines) into (line number, fields), skipping blank lines. Quoted fields are
    honoured for csv-style delimiters; '::' and whitespace files have no quoting."""
    out: list[tuple[int, list[str]]] = []
    if delimiter in CSV_DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        before = 0
        try:
            for row in reader:
                if row and (len(row) > 1 or row[0].strip()):
                    out.append((start_line + before, row))
                before = reader.line_num
        except csv.Error as exc:
            line = start_line + before
            if "field larger than field limit" in str(exc):
                limit = csv.field_size_limit()
                mb = f" ({limit >> 20} MB)" if limit >= 1 << 20 else ""
                raise InputError(f"a field is longer than the limit of {limit:,} characters{mb}; expected "
                                 "one value per field (is a quote missing?)", path=path,
                                 line=line, column=_long_field(text, before, delimiter, limit)) from None
            raise InputError(f"malformed quoted field ({exc})", path=path, line=line) from None
        return out
    for k, line in enumerate(text.split("\n")):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        out.append((start_line + k, line.split() if delimiter == WHITESPACE else line.split(delimiter)))
    return out


def _long_field(text: str, k: int, delimiter: str, limit: int) -> int | None:
    """1-based column of the first field longer than `limit` in the record starting on line k of text."""
    pos = 0
    for _ in range(k):
        pos = text.index("\n", pos) + 1
    column, end = 1, len(text)
    while pos < end:
        if text.startswith('"', pos):          # quoted: up to the closing quote ("" is an escaped quote)
            stop = pos + 1
            while True:
                stop = text.find('"', stop)
                if stop < 0 or not text.startswith('"', stop + 1):
                    break
                stop += 2
            stop = end if stop < 0 else stop + 1
            n = stop - pos - 2
        else:
            stop = min((i for i in (text.find(delimiter, pos), text.find("\n", pos)) if i >= 0), default=end)
            n = stop - pos
        if n > limit:
            return column
        if stop >= end or text[stop] != delimiter:
            return None
        column, pos = column + 1, stop + 1
    return None


def split_rows_bulk(text: str, delimiter: str, start_line: int = 1, path: str | None = None
                    ) -> tuple[list[list[str]], list[int] | None]:
    """Like `split_rows` but parsed in C when every line is one non-blank record; then the line numbers
    are implicit (`None`: row j is at start_line + j)."""
    n_lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if "\r" not in text:
        rows: list[list[str]] | None = None
        if delimiter in CSV_DELIMITERS:
            try:
                rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
            except csv.Error:
                rows = None
            if rows is not None and (len(rows) != n_lines or [] in rows):
                rows = None
        else:
            lines = text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            if "" not in lines and (delimiter != WHITESPACE or not any(not ln.strip() for ln in lines)):
                rows = [ln.split() for ln in lines] if delimiter == WHITESPACE else [ln.split(delimiter) for ln in lines]
        if rows is not None and len(rows) == n_lines and 1 not in set(map(len, rows)):
            return rows, None      # (one-field rows may be blank lines: the exact path skips those)
    got = split_rows(text, delimiter, start_line, path)
    return [r for _, r in got], [line for line, _ in got]


def describe_delimiter(d: str) -> str:
    return {"\t": "tab", WHITESPACE: "whitespace"}.get(d, repr(d))
