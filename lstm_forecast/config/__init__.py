"""The run configuration: frozen dataclasses (schema.py), their checks (checks.py), reading and
writing them as TOML and applying overrides (load.py). A config is parsed and validated once per
command.
"""
