"""Every file the tool writes and the marker that makes a directory ours (names.py), how our files are
recognised (ours.py), the one writer: checks first, atomic replace (write.py), and the readers of
TOML and our own JSON and CSV outputs (read.py). The bottom stage: it imports nothing of ours but
errors and the version.
"""
