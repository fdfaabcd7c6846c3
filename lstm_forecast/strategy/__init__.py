"""Would acting on the forecast have paid, after costs: the trading rules (strategies.py), the tests
against buy-and-hold (significance.py), the entry point (evaluate.py) and the equity figure
(plot.py).
"""
