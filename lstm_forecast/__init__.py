"""lstm-forecast: stacked-LSTM stock-price forecasting, measured against 'tomorrow = today'."""

import os

# Quiet TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) before anything imports it;
# a value the user set wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
