"""Auxiliary labels: positions on [0, 1) and prompt ids (MODEL.md §1, §6)."""

from __future__ import annotations

import numpy as np

from ._validation import check_array_bytes, check_aux, check_int

__all__ = ["grid_positions", "replicate"]


def grid_positions(count: int) -> np.ndarray:
    r"""The uniform grid :math:`s_\ell=\ell/L`, :math:`\ell=0,\dots,L-1` (MODEL.md §6.1).

    Its empirical law converges to :math:`\lambda=\mathrm{Unif}[0,1]`.
    Memory: the ``count`` positions (refused above 1 GiB).

    >>> grid_positions(4)
    array([0.  , 0.25, 0.5 , 0.75])
    """
    count = check_int(count, "count", minimum=1)
    check_array_bytes(count, f"grid_positions({count})")
    return np.arange(count) / count


def replicate(labels, copies: int) -> np.ndarray:
    """Repeat every label ``copies`` times, in blocks: ``[a0]*copies + [a1]*copies + ...``.

    Used for several particles per label (MODEL.md §6.1: 4 per label).
    ``labels`` is a non-empty 1-D array of finite numbers (positions or
    prompt ids; the dtype is kept).  Memory: the result (refused above 1 GiB).

    >>> replicate([0.0, 0.5], 2)
    array([0. , 0. , 0.5, 0.5])
    """
    copies = check_int(copies, "copies", minimum=1)
    values = check_aux(labels, None, "labels")
    if values.size == 0:
        raise ValueError("labels must hold at least one label, got an empty array")
    check_array_bytes(float(values.size) * copies, f"replicate({values.size} labels, copies={copies})")
    return np.repeat(values, copies)
