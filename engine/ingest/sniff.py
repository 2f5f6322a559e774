"""Sniffing one delimited text file: its encoding, delimiter, header and first rows (`sniff_file`),
and the rows the wizard previews (`preview`)."""
from __future__ import annotations

import os

from engine.errors import InputError
from engine.ingest.detected import FileSniff, Preview
from engine.ingest.mapping import USUAL, norm
from engine.ingest.roles import id_stem
from engine.ingest.textio import DELIMITERS, check_columns, check_text, decode, detect_encoding, read_sample, split_rows


def is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _pick_delimiter(text: str, path: str) -> tuple[str, list[list[str]]]:
    best = None
    for d in DELIMITERS:
        try:
            rows = [r for _, r in split_rows(text, d)][:200]
        except InputError:
            continue
        if not rows:
            continue
        counts = [len(r) for r in rows]
        mode = max(set(counts), key=counts.count)
        share = counts.count(mode) / len(counts)
        if mode < 2:
            continue
        if share == 1.0:
            return d, rows
        if best is None or share > best[0]:
            best = (share, d, rows)
    if best is None or best[0] < 0.5:
        raise InputError("cannot tell how the columns are separated; expected ',', tab, '|', '::', ';' or "
                         "spaces between at least two columns", path=path, line=1)
    return best[1], best[2]


def _looks_like_header(rows: list[list[str]]) -> bool:
    first, rest = rows[0], rows[1:21]
    usual = {n for names in USUAL.values() for n in names}
    if any(norm(c) in usual for c in first) and not all(is_number(c) for c in first):
        return True
    if not rest:
        return not any(is_number(c) for c in first)
    for k, cell in enumerate(first):   # 'WineID' above 'w1', 'w2': a header even without numbers
        if id_stem(cell) not in (None, "id") and not any(k < len(r) and id_stem(r[k]) for r in rest):
            return True
    for k, cell in enumerate(first):
        col = [r[k] for r in rest if k < len(r)]
        if col and not is_number(cell) and all(is_number(c) for c in col):
            return True
    return False


def sniff_file(path: str | os.PathLike, *, delimiter: str | None = None, has_header: bool | None = None,
               encoding: str | None = None) -> FileSniff:
    """Sniff encoding, delimiter and header from the start of the file (any of them can be forced)."""
    p = str(path)
    raw, _whole = read_sample(p)
    check_text(p, raw)
    enc = encoding or detect_encoding(raw)
    text = decode(raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw, enc)
    if delimiter is None:
        delimiter, rows = _pick_delimiter(text, p)
    else:
        rows = [r for _, r in split_rows(text, delimiter, path=p)][:200]
    if not rows:
        raise InputError("the file is empty; expected one interaction or item per line", path=p, line=1)
    header = _looks_like_header(rows) if has_header is None else has_header
    if header:
        columns = tuple(c.strip() for c in rows[0])
        data = rows[1:]
    else:
        lens = [len(r) for r in rows[:200]]
        width = max(lens, key=lambda n: (lens.count(n), n == lens[0]))   # the usual row; ties: the first
        columns = tuple(f"column {k + 1}" for k in range(width))
        data = rows
    check_columns(p, len(columns), header)
    return FileSniff(path=p, encoding=enc, delimiter=delimiter, has_header=header, columns=columns,
                     compressed=_is_gzip(p),
                     sample=tuple(tuple(r) for r in data[:20]))


def preview(path: str | os.PathLike, n: int = 20, **force) -> Preview:
    """The first `n` data rows as parsed with the sniffed (or forced) delimiter, header and encoding."""
    s = sniff_file(path, **force)
    rows = [list(r) for r in s.sample[:n]]
    if len(rows) < n:
        raw, _ = read_sample(path, 1 << 20)
        text = decode(raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw, s.encoding)
        parsed = [r for _, r in split_rows(text, s.delimiter, path=str(path))]
        rows = parsed[(1 if s.has_header else 0):][:n]
    return Preview(columns=s.columns, has_header=s.has_header, rows=rows, delimiter=s.delimiter,
                   encoding=s.encoding)

