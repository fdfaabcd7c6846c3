"""Prices in: a CSV in any common dialect (dialect.py, read.py), its step (frequency.py), the dates
after it (calendar.py), its quality report (quality.py) and the derived input columns
(features.py).
"""
