"""What people look at: the one HTML page (page.py from parts.py, run.py, studies.py, gates.py and
templates/), and the figures (plot.py, run_plots.py, gates_plot.py).
"""
