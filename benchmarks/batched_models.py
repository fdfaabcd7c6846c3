"""Two small models in one batched computation, or one after another, or as two workers?

Two stacked LSTMs of 32 units trained as one computation are one LSTM of 64 units whose weights
are block-diagonal (the second block of each matrix zero between the models): the fused kernels
(BlockLSTMV2) cannot skip the zero blocks, so a 64-unit model's epoch is what the batched pair
would cost at least. This times an epoch of each (the fast trainer, both cores, 4,800 windows of
60 rows, batch 32) and sets them beside two 32-unit models one after another and as two pinned
workers (0.72 of the time one after another: benchmarks/results/parallel_trials.md).

Usage (from the repository root):
    python benchmarks/batched_models.py > benchmarks/results/batched_models.md
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKERS_SHARE = 0.72  # two pinned workers' time over one after another (parallel_trials.md)


def weights(units: tuple[int, ...], rng) -> list[np.ndarray]:
    out, width = [], 1
    for h in units:
        out += [rng.normal(0, 0.1, (width, 4 * h)), rng.normal(0, 0.1, (h, 4 * h)), np.zeros(4 * h)]
        width = h
    out += [rng.normal(0, 0.1, (units[-1], 1)), np.zeros(1)]
    return [w.astype(np.float32) for w in out]


def epoch_seconds(units: tuple[int, ...], x, y, rng, epochs: int = 4) -> float:
    """The mean of an epoch after the first (which traces the graph)."""
    from lstm_forecast.model.fast import fit
    from lstm_forecast.model.fast_graph import Spec

    spec = Spec(units=units, dropout=(0.2,) * len(units))
    result = fit(spec, weights(units, rng), x, y, epochs=epochs, batch_size=32,
                 learning_rate=1e-3, validation_fraction=0.1, patience=0)  # fmt: skip
    return float(np.mean([logs["seconds"] for logs in result.history[1:]]))


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4800, 60, 1)).astype(np.float32)
    y = rng.normal(size=4800).astype(np.float32)
    rounds = []
    for _ in range(2):
        rounds.append((epoch_seconds((32, 32), x, y, rng), epoch_seconds((64, 64), x, y, rng)))
    small = float(np.median([r[0] for r in rounds]))
    large = float(np.median([r[1] for r in rounds]))
    print("# Two models in one batched computation, one after another, or as two workers\n")
    print(f"Command: `python benchmarks/batched_models.py`. Machine: {platform.machine()}, "
          f"{os.cpu_count()} CPUs; an epoch of 4,800 windows of 60 rows, batch 32, both cores, "
          "the median of 2 rounds of 3 epochs after a tracing one.\n")  # fmt: skip
    print("| two 2 × 32-unit models | seconds an epoch of both | × one after another |")
    print("|---|---:|---:|")
    print(f"| one after another | {2 * small:.3f} | 1.00 |")
    print(
        f"| as two pinned workers (× {WORKERS_SHARE}) | {2 * small * WORKERS_SHARE:.3f} | "
        f"{WORKERS_SHARE:.2f} |"
    )
    print(
        f"| one batched computation (a 2 × 64-unit model, at least) | {large:.3f} | "
        f"{large / (2 * small):.2f} |"
    )
    print(f"\nEvery round (32 units, 64 units): {rounds}")


if __name__ == "__main__":
    main()
