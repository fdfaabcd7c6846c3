"""Walk-forward backtests: a Forecaster per fold (or per --refit folds), scored one step and
recursively, with their bands (walk.py).
"""
