"""From prices to the model's inputs: the train/test split (split.py), the MinMax scaling
(scaling.py), the target transforms (transforms.py), the windows (windows.py), and the series a
config names, read and split (inputs.py).
"""
