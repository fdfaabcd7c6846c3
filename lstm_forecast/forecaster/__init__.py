"""The Forecaster (forecaster.py): fit, predict (predict.py), forecast (forecast.py, origins.py),
calibrate (calibrate.py), the gates inside its cells (gates.py, gates_summary.py), and the run
directory it saves and loads (bundle.py).
"""
