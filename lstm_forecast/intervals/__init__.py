"""Prediction intervals from calibration errors: split conformal (conformal.py), adaptive conformal
inference (adaptive.py), the one band builder and adaptive level (band.py), and how a band held
(scores.py).
"""
