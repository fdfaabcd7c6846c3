"""lstm-forecast: stacked-LSTM stock-price forecasting, measured against the naive baselines.

from lstm_forecast import Forecaster, load_config, read_prices
"""

import os

# Quiet TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) before anything imports it;
# a value the user set wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.2.0"
__all__ = ["Config", "Forecaster", "LstmForecastError", "load_config", "read_prices"]

# Imported on first use, so that `import lstm_forecast.cli` (and `--help`) stays light.
_LAZY = {
    "Forecaster": "lstm_forecast.forecaster.forecaster",
    "Config": "lstm_forecast.config.schema",
    "load_config": "lstm_forecast.config.load",
    "read_prices": "lstm_forecast.prep.inputs",
    "LstmForecastError": "lstm_forecast.errors",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lstm_forecast' has no attribute {name!r}")
