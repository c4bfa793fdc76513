"""Random masks of the stochastic regularizers, from an explicit RNG state.

The state is a ``uint64`` array of length 1 advanced by SplitMix64, created per epoch
from the estimator's seed by :func:`seed_state`; numba's global ``np.random`` (thread
local, shared by every estimator of a thread) is never used.
"""

import numpy as np
from numba import njit

jit = njit(cache=True, nogil=True)


@jit
def splitmix64(state):
    """x ← x + 0x9E3779B97F4A7C15; return mix(x) (Steele, Lea & Flood's SplitMix64)."""
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@jit
def uniform(state):
    """u = (top 53 bits of the next draw) / 2^53, uniform on [0, 1)."""
    return np.float64(splitmix64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@jit
def seed_state(seed, stream):
    """State of stream ``stream`` (e.g. the epoch) of generator ``seed``."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed) ^ (np.uint64(stream) * np.uint64(0xD1B54A32D192ED03))
    splitmix64(state)
    return state


@jit
def permute(idx, state):
    """Fisher–Yates shuffle of ``idx`` in place."""
    for i in range(idx.shape[0] - 1, 0, -1):
        j = int(uniform(state) * (i + 1))
        idx[i], idx[j] = idx[j], idx[i]


@jit
def dropout_mask(mask, p, state):
    """m = 0 with probability p, else 1 / (1 − p) (inverted dropout)."""
    scale = 1.0 / (1.0 - p)
    for r in range(mask.shape[0]):
        for c in range(mask.shape[1]):
            mask[r, c] = 0.0 if uniform(state) < p else scale
