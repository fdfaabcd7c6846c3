"""The network: the Keras model (build.py), the LSTM variants (cells.py), training with Keras or the
fast engine (train.py, fast.py, fast_graph.py), and the Keras backend setting (backend.py).
"""
