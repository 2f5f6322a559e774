"""Stand-ins for a float32 (n, d) item matrix that never hold it whole.

`VectorRows` is the small ndarray surface the engine uses on item vectors (row gathers of any index
shape, `len`, `shape`, `dtype`, `x @ v.T`, `v @ x`, `np.asarray(v)`), written once over two
primitives: `_block(a, b)` (rows a..b-1 as float32) and `_gather(ids)` (1-D ids). Products run block
by block, so no full float32 copy ever exists. Two implementations:

* `engine.retrieval.quantize.QuantizedVectors`: int8 codes + a scale per row, in memory;
* `NpyRows` (here): the float32 rows of a `.npy` file, or of an uncompressed `.npy` member of a `.npz`
  (what `np.savez` writes: a run's model.npz), read on demand with positional reads (`os.preadv`).

Why `NpyRows`: with an ANN index a pick reads a few hundred of a million item vectors (the re-rank of
the short list, the user's history, the list's rows), yet the 1M x 128 float32 matrix is 489 MiB of
the app's memory. Memory-mapping the member does not help on Linux: each page fault maps the whole
cached folio around it (measured: 400 random rows mapped ~220 MiB; MADV_RANDOM changed nothing), where
a positional read copies exactly the bytes asked for. A full product (exact scoring without an index,
a dislike's neighbours over the whole catalogue) still works: it streams the file `READ_BYTES` at a
time and keeps none of it.
"""
from __future__ import annotations

import os
import struct
import threading
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

BLOCK = 65_536   # rows per block in products (32 MiB of float32 at d = 128)
READ_BYTES = 4 << 20   # NpyRows: bytes per read when a product streams the file


class VectorRows:
    """The float32-matrix surface over `_block` / `_gather`; subclasses set `shape`."""

    __array_ufunc__ = None        # `ndarray @ self` defers to __rmatmul__ instead of densifying

    shape: tuple[int, int]

    def _block(self, a: int, b: int) -> np.ndarray:
        raise NotImplementedError

    def _gather(self, ids: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @property
    def dtype(self):
        return np.dtype(np.float32)   # what rows come back as

    @property
    def ndim(self) -> int:
        return 2

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        """Rows, for any first-axis index numpy accepts (int, slice, int or bool arrays of any shape)."""
        if isinstance(key, tuple):
            rows = self[key[0]]
            return rows[(slice(None),) * (rows.ndim - 1) + key[1:]] if len(key) > 1 else rows
        n = len(self)
        if isinstance(key, slice):
            a, b, step = key.indices(n)
            if step == 1:
                return self._block(a, max(a, b))
            return self._gather(np.arange(a, b, step, dtype=np.int64))
        if isinstance(key, (int, np.integer)):
            i = int(key)
            if not -n <= i < n:
                raise IndexError(f"row {i} is out of bounds for {n} rows")
            return self._block(i % n, i % n + 1)[0]
        ids = np.asarray(key)
        if ids.dtype == bool:
            if ids.shape != (n,):
                raise IndexError(f"boolean index of shape {ids.shape} for {n} rows")
            ids = np.flatnonzero(ids)
        elif ids.dtype.kind not in "iu":
            if ids.size:
                raise IndexError(f"rows must be indexed by integers, not {ids.dtype}")
            ids = ids.astype(np.int64)
        flat = ids.astype(np.int64, copy=False).ravel()
        if flat.size and (flat.min() < -n or flat.max() >= n):
            raise IndexError(f"row index out of bounds for {n} rows")
        flat = np.where(flat < 0, flat + n, flat)
        return self._gather(flat).reshape(ids.shape + (self.shape[1],))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self._block(0, len(self))
        return out if dtype is None else out.astype(dtype, copy=False)

    @property
    def T(self) -> "_Transposed":
        return _Transposed(self)

    def _block_rows(self) -> int:
        return BLOCK

    def blocks(self, block: int | None = None):
        """(start, rows) over the whole matrix, `block` (default `_block_rows()`) rows at a time."""
        block = block or self._block_rows()
        for a in range(0, len(self), block):
            yield a, self._block(a, min(len(self), a + block))

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        """self @ other, block by block: (n, d) @ (d,) or (d, m)."""
        other = np.asarray(other, np.float32)
        with _blas_threads(other.ndim == 1 or other.shape[1] <= FEW):
            parts = [rows @ other for _, rows in self.blocks()]
        return np.concatenate(parts, axis=0) if parts else np.zeros((0,) + other.shape[1:], np.float32)

    def dot_rows(self, x: np.ndarray) -> np.ndarray:
        """x @ self.T, (B, d) -> (B, n): the scoring product, block by block."""
        x = np.asarray(x, np.float32)
        out = np.empty((x.shape[0], len(self)), np.float32)
        with _blas_threads(len(x) <= FEW):
            for a, rows in self.blocks():
                out[:, a:a + len(rows)] = x @ rows.T
        return out


FEW = 4     # products with at most this many query vectors run each block on one BLAS thread
_controller = None


@contextmanager
def _blas_threads(few: bool):
    """One BLAS thread for the blocks of a product with a few query vectors: each block is too small to
    share, and waking the pool per block cost more than the product (a 1M-row file streamed against one
    vector: 0.87 s wall with the default threads, 0.15-0.19 s on one, on the loaded 2-core box)."""
    global _controller
    if not few:
        yield
        return
    if _controller is None:
        from threadpoolctl import ThreadpoolController
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield


class _Transposed:
    __array_ufunc__ = None

    def __init__(self, v: VectorRows):
        self.v = v

    @property
    def shape(self) -> tuple[int, int]:
        return self.v.shape[::-1]

    def __rmatmul__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        return self.v.dot_rows(x[None, :])[0] if x.ndim == 1 else self.v.dot_rows(x)


# ---- rows of a .npy file (or .npz member), read on demand ------------------------------------------

def npy_layout(path: Path, member: str | None = None) -> tuple[int, tuple[int, ...], np.dtype, bool, int] | None:
    """(byte offset of the array's data in `path`, shape, dtype, fortran_order, compression) of a .npy
    file, or of `member` (e.g. "item_matrix") of an .npz; None when the member is not there. Only a
    stored (ZIP_STORED) member of .npy format 1.0 or 2.0 has its header read; compression -1 marks a
    newer format."""
    path = Path(path)
    with open(path, "rb") as f:
        start, compression = 0, zipfile.ZIP_STORED
        if member is not None:
            with zipfile.ZipFile(f) as z:
                try:
                    info = z.getinfo(member + ".npy")
                except KeyError:
                    return None
            compression = info.compress_type
            f.seek(info.header_offset)
            head = f.read(30)             # the local file header: its name and extra field lengths vary
            if head[:4] != b"PK\x03\x04":
                raise ValueError(f"{path}: no local header for {member}")
            name_len, extra_len = struct.unpack("<HH", head[26:30])
            start = info.header_offset + 30 + name_len + extra_len
        if compression != zipfile.ZIP_STORED:
            return start, (), np.dtype(np.float32), False, compression
        f.seek(start)
        fmt = np.lib.format
        version = fmt.read_magic(f)
        read = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}.get(version)
        if read is None:        # a newer .npy version: the caller loads the array whole
            return start, (), np.dtype(np.float32), False, -1
        shape, fortran, dtype = read(f)
        return f.tell(), tuple(shape), np.dtype(dtype), bool(fortran), compression


class NpyRows(VectorRows):
    """The float32 rows of a C-order (n, d) array stored in a file at a byte offset, read on demand.

    `rows_read` / `bytes_read` / `reads` count what was read (the tests assert them); the file stays
    open (one descriptor) and positional reads need no lock, so threads may share it."""

    def __init__(self, path: Path, offset: int, shape: tuple[int, int]):
        self.path, self.offset, self.shape = Path(path), int(offset), (int(shape[0]), int(shape[1]))
        self.row_bytes = 4 * self.shape[1]
        self.rows_read = self.bytes_read = self.reads = 0
        self._open()

    @classmethod
    def open(cls, path: Path, member: str | None = None) -> "NpyRows | None":
        """Rows of `path` (.npy) or of its `member` (.npz); None when that array cannot be read in place
        (missing, compressed, not a 2-D little-endian float32 C-order array): load it whole instead."""
        layout = npy_layout(path, member)
        if layout is None:
            return None
        offset, shape, dtype, fortran, compression = layout
        if compression != zipfile.ZIP_STORED or len(shape) != 2 or fortran or dtype != np.dtype("<f4"):
            return None
        return cls(path, offset, shape)

    def _open(self) -> None:
        self._file = open(self.path, "rb", buffering=0)
        self._lock = threading.Lock()      # only for systems without os.preadv (Windows)

    def close(self) -> None:
        f = getattr(self, "_file", None)
        if f is not None:
            f.close()

    def __del__(self):
        self.close()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_file", None)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._open()

    @property
    def nbytes(self) -> int:
        """Bytes held in memory for the rows: none (they stay in the file)."""
        return 0

    def _block_rows(self) -> int:
        """Products read READ_BYTES at a time: the whole 1M x 128 file streamed in 0.10 s wall here, where
        32 MiB blocks took 0.27 s (each fresh 32 MiB buffer is new pages to fault in)."""
        return min(BLOCK, max(1, READ_BYTES // max(1, self.row_bytes)))

    def _read_into(self, out: np.ndarray, row: int) -> None:
        """Fill `out` (contiguous rows) from the file, starting at `row`."""
        view = memoryview(out).cast("B")
        pos, done = self.offset + row * self.row_bytes, 0
        while done < len(view):
            if hasattr(os, "preadv"):
                got = os.preadv(self._file.fileno(), [view[done:]], pos + done)
            else:  # pragma: no cover - Windows
                with self._lock:
                    self._file.seek(pos + done)
                    got = self._file.readinto(view[done:])
            if not got:
                raise OSError(f"{self.path}: the file ends before row {row + (done + 1) // self.row_bytes}")
            done += got
        self.reads += 1
        self.bytes_read += len(view)
        self.rows_read += len(out)

    def _block(self, a: int, b: int) -> np.ndarray:
        out = np.empty((b - a, self.shape[1]), np.float32)
        if b > a:
            self._read_into(out, a)
        return out

    def _gather(self, ids: np.ndarray) -> np.ndarray:
        """Each distinct row once; runs of consecutive rows in one read."""
        uniq, inverse = np.unique(ids, return_inverse=True)
        rows = np.empty((len(uniq), self.shape[1]), np.float32)
        if len(uniq):
            breaks = np.flatnonzero(np.diff(uniq) != 1) + 1
            for s, e in zip(np.r_[0, breaks], np.r_[breaks, len(uniq)]):
                self._read_into(rows[s:e], int(uniq[s]))
        return rows[inverse.reshape(-1)]


def npz_nonfinite(path: Path, block: int | None = None) -> str | None:
    """The first float array of an .npz holding NaN or an infinity (None if all are finite). Uncompressed
    2-D float32 members are checked block by block, so a large item matrix is never read whole."""
    path = Path(path)
    with np.load(path, allow_pickle=False) as z:
        for key in z.files:
            rows = NpyRows.open(path, key)
            if rows is not None:
                try:
                    if any(not np.isfinite(r).all() for _, r in rows.blocks(block)):
                        return key
                finally:
                    rows.close()
                continue
            a = z[key]
            if a.dtype.kind in "fc" and not np.isfinite(a).all():
                return key
    return None
