"""Seed derivation: one scenario seed gives independent per-episode, per-world and per-seat streams.

No global RNG is used anywhere: every consumer gets its own ``random.Random`` built from a derived seed.
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(root: int, *path: str | int) -> int:
    """A 63-bit seed for the stream named by ``path`` under ``root`` (stable across runs and platforms)."""
    text = "/".join([str(root), *map(str, path)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def stream(root: int, *path: str | int) -> random.Random:
    """An independent ``random.Random`` for the stream named by ``path``."""
    return random.Random(derive_seed(root, *path))
