"""Accuracy beside the baselines: the one baseline builder (baselines.py), the metrics and the
Diebold-Mariano verdict (metrics.py), and the pooled score over many folds or series (pooled.py).
"""
