"""MinMax scaling of the model's input columns (scikit-learn), fitted on the training span only, and its parameters as JSON for the run directory."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import MinMaxScaler


def fit_scaler(train_model_values: np.ndarray) -> MinMaxScaler:
    """MinMax scaler to [0, 1] per column, fit on training values alone (NaN is ignored).

    A 1-D array is one column.
    """
    values = np.asarray(train_model_values, dtype=np.float64)
    return MinMaxScaler(feature_range=(0, 1)).fit(values.reshape(len(values), -1))


def scaler_to_dict(scaler: MinMaxScaler) -> dict:
    """The scaler's parameters as plain JSON-able data (no pickle)."""
    return {
        "kind": "MinMaxScaler",
        "feature_range": list(scaler.feature_range),
        "data_min": scaler.data_min_.tolist(),
        "data_max": scaler.data_max_.tolist(),
    }


def scaler_from_dict(params: dict) -> MinMaxScaler:
    """Rebuild a fitted MinMaxScaler: fitting on the two rows (min, max) gives the same transform."""
    scaler = MinMaxScaler(feature_range=tuple(params["feature_range"]))
    return scaler.fit(np.vstack([params["data_min"], params["data_max"]]))


def apply_scaling(values, multiplier, offset):
    """values * multiplier + offset: MinMax scaling of model-space values (NaN stays NaN)."""
    return values * multiplier + offset


def undo_scaling(scaled, multiplier, offset):
    """The inverse of apply_scaling."""
    return (scaled - offset) / multiplier


def scale(scaler: MinMaxScaler, model_values: np.ndarray) -> np.ndarray:
    """Scale values whose last axis is the scaler's columns (a 1-D array: the target column)."""
    values = np.asarray(model_values, dtype=np.float64)
    if values.ndim == 1:
        return scale_target(scaler, values)
    return apply_scaling(values, scaler.scale_, scaler.min_)


def scale_target(scaler: MinMaxScaler, values: np.ndarray) -> np.ndarray:
    """Scale target (column 0) values alone."""
    return apply_scaling(np.asarray(values, dtype=np.float64), scaler.scale_[0], scaler.min_[0])


def unscale(scaler: MinMaxScaler, scaled: np.ndarray) -> np.ndarray:
    """Inverse of scaling for model outputs: the target column (0) alone, whatever the number
    of input columns."""
    return undo_scaling(np.asarray(scaled, dtype=np.float64), scaler.scale_[0], scaler.min_[0])
