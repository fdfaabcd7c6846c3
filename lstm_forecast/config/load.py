"""Reading a config (TOML file, dict, command-line overrides, --set) into a validated Config, and
writing it back as TOML. Every path into a Config goes through config_from_dict, so every source is
checked alike (checks.py)."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from lstm_forecast.config.checks import build_section, validate
from lstm_forecast.config.schema import TUNE_SECTION, Config
from lstm_forecast.errors import ConfigError
from lstm_forecast.files.names import as_path
from lstm_forecast.files.read import read_toml
from lstm_forecast.files.write import json_safe


def load_config(path: str | Path | None = None) -> Config:
    """Read a TOML config; keys it leaves out keep their defaults. None gives the defaults."""
    if path is None:
        return Config()
    return config_from_dict(read_toml(as_path(path, "load_config's path")), source=str(path))


def config_from_dict(raw: dict[str, Any], source: str = "config") -> Config:
    """Build a validated Config from nested dicts (as parsed from TOML)."""
    sections = {}
    for section_field in dataclasses.fields(Config):
        values = raw.get(section_field.name, {})
        section_type = section_field.default_factory  # the section's dataclass
        sections[section_field.name] = build_section(
            section_type, values, f"{source}: [{section_field.name}]"
        )
    # [tune] is the search space `lstm-forecast tune` reads (tune.py); every other command
    # trains the base config of such a file, so the table is passed over here
    unknown = sorted(set(raw) - set(sections) - {TUNE_SECTION})
    if unknown:
        raise ConfigError(
            f"{source}: unknown section [{unknown[0]}]; valid sections: {', '.join(sections)}"
        )
    config = Config(**sections)
    validate(config, source)
    return config


def as_config(config: Config | str | Path | dict | None) -> Config:
    """What the Python API takes as a config: a Config, a TOML file's path, a dict of sections
    as TOML gives them, or None for the defaults."""
    if config is None:
        return Config()
    if isinstance(config, Config):  # built in Python: checked as a file is (about 2 ms)
        checked = config_from_dict(config_to_dict(config), "config")
        return config if checked == config else checked
    if isinstance(config, str | Path):
        return load_config(config)
    if isinstance(config, dict):
        return config_from_dict(config, "config dict")
    raise ConfigError(
        f"config must be a Config (load_config(path)), a TOML file's path or a dict of sections, "
        f"got {type(config).__name__}"
    )


def with_overrides(
    config: Config, source: str = "command-line options", **overrides: Any
) -> Config:
    """Replace fields given as `section__key=value`; None values are ignored (option not given).

    The command-line options go through here and through apply_settings alike: both rebuild the
    config from a dict, so an override is validated exactly like a TOML file.
    """
    raw = config_to_dict(config)
    for name, value in overrides.items():
        if value is not None:
            section, key = name.split("__")
            raw.setdefault(section, {})[key] = value
    return config_from_dict(raw, source)


def apply_settings(config: Config, settings: list[str] | tuple[str, ...]) -> Config:
    """Apply `--set section.key=value` overrides; the value is read as TOML (30, 0.5, true,
    "text", ["a", "b"]), and as a plain string when it is not valid TOML."""
    raw = config_to_dict(config)
    for setting in settings:
        name, equals, text = setting.partition("=")
        section, dot, key = name.strip().partition(".")
        if not equals or not dot or not section or not key:
            raise ConfigError(
                f"--set {setting!r}: write it as section.key=value, e.g. --set train.epochs=10"
            )
        try:
            value = tomllib.loads(f"value = {text.strip()}")["value"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        if section not in raw or not isinstance(raw[section], dict):
            raise ConfigError(
                f"--set {setting!r}: unknown section [{section}]; valid sections: "
                f"{', '.join(f.name for f in dataclasses.fields(Config))}"
            )
        raw[section][key] = value
    return config_from_dict(raw, "--set")


def config_to_dict(config: Config) -> dict[str, Any]:
    """The config as nested dicts and lists, as TOML holds it."""
    return json_safe(dataclasses.asdict(config))


def config_to_toml(config: Config) -> str:
    """The resolved config as TOML text, readable back by load_config."""
    import tomli_w

    return tomli_w.dumps(config_to_dict(config))
