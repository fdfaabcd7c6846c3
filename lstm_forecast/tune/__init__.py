"""Hyperparameter search with Optuna: the [tune] search space (search.py), the study and its trials
(study.py), where it is stored (storage.py), and its results (results.py).
"""
