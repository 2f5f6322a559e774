"""Rating scales: a guess from the observed range (`guess_scale`, used while detecting the format)
and the scale an import stores (`rating_scale`, after every rating was read), shared by the SQLite
and PostgreSQL write paths."""
from __future__ import annotations

import numpy as np

from engine.ingest.detected import DetectedFormat


def guess_scale(lo: float, hi: float) -> tuple[float, float, float]:
    """(rating_min, rating_max, positive_threshold) for observed ratings in [lo, hi]."""
    if lo >= 0 and hi <= 1:
        return 0.0, 1.0, 1.0
    if lo >= 0 and hi <= 5:
        return (0.5 if lo < 1 else 1.0), 5.0, 4.0
    if lo >= 0 and hi <= 10:
        return (0.0 if lo < 1 else 1.0), 10.0, 8.0
    if lo >= 0 and hi <= 100:
        return 0.0, 100.0, 80.0
    return float(lo), float(hi), float(lo + 0.8 * (hi - lo))


def rating_scale(det: DetectedFormat, lo: float, hi: float) -> tuple[float | None, float | None, float | None]:
    """(rating_min, rating_max, positive_threshold) of an import whose ratings ranged over [lo, hi]
    (lo = inf: none seen): guessed from the data for generic files, the format's own for known ones,
    the mapping's overrides first; all None for implicit data (no rating column)."""
    m = det.mapping
    if m.rating is None:
        return None, None, None
    if det.name == "csv":
        rmin, rmax, thr = guess_scale(lo, hi) if np.isfinite(lo) else (det.rating_min, det.rating_max,
                                                                        det.positive_threshold)
    else:
        rmin, rmax, thr = det.rating_min, det.rating_max, det.positive_threshold
        if rmin is None:   # MovieLens 1M/10M: half stars or not
            rmin = 0.5 if np.isfinite(lo) and lo < 1 else 1.0
    pick = lambda override, v: v if override is None else float(override)  # noqa: E731
    return pick(m.rating_min, rmin), pick(m.rating_max, rmax), pick(m.positive_threshold, thr)
