import pytest
from conftest import ROOT

from lstm_forecast.config.load import config_from_dict, config_to_toml, load_config, with_overrides
from lstm_forecast.config.schema import Config, LayerConfig
from lstm_forecast.errors import ConfigError

CONFIGS = ROOT / "configs"


def test_no_file_gives_the_defaults():
    assert load_config(None) == Config()


def test_seed_config_is_the_reference_model():
    config = load_config(CONFIGS / "seed.toml")
    assert config.data.target == "Open"
    assert config.window.length == 60
    assert config.window.target_transform == "level"
    assert config.model.layers == (LayerConfig(units=50, dropout=0.2),) * 4
    train = config.train
    assert (train.optimizer, train.learning_rate, train.loss) == ("adam", 0.001, "mse")
    assert (train.epochs, train.batch_size, train.early_stopping_patience) == (100, 32, 0)
    assert train.validation_fraction == 0.0


@pytest.mark.parametrize("name", sorted(path.name for path in CONFIGS.glob("*.toml")))
def test_every_shipped_config_loads(name):
    load_config(CONFIGS / name)


def test_toml_round_trip(tmp_path):
    config = load_config(CONFIGS / "seed.toml")
    path = tmp_path / "resolved.toml"
    path.write_text(config_to_toml(config))
    assert load_config(path) == config


def test_cell_is_set_for_the_stack_and_per_layer():
    config = config_from_dict(
        {"model": {"cell": "gru", "layers": [{"units": 8, "cell": "cifg"}, {"units": 4}]}}
    )
    assert config.model.cell == "gru"
    assert [layer.cell for layer in config.model.layers] == ["cifg", ""]


def test_keys_left_out_keep_their_defaults():
    config = config_from_dict({"train": {"epochs": 3}})
    assert config.train.epochs == 3
    assert config.train.batch_size == Config().train.batch_size
    assert config.window == Config().window


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"train": {"epoch": 3}}, "unknown key 'epoch'; valid keys: optimizer"),
        ({"trainer": {}}, "unknown section [trainer]"),
        ({"train": {"epochs": "many"}}, '[train] epochs must be a whole number, got "many"'),
        ({"train": {"epochs": 2.5}}, "[train] epochs must be a whole number, got 2.5"),
        (
            {"train": {"learning_rate": float("inf")}},
            "learning_rate must be a finite number, got inf",
        ),
        (
            {"forecast": {"gamma": float("nan")}},
            "[forecast] gamma must be a finite number, got nan",
        ),
        ({"data": {"path": True}}, "[data] path must be a string, got true"),
        ({"data": {"path": ["a.csv"]}}, '[data] path must be a string, got ["a.csv"]'),
        ({"train": {"epochs": 0}}, "epochs must be at least 1"),
        ({"train": {"jit_compile": 1}}, "jit_compile must be true or false"),
        (
            {"window": {"target_transform": "diff2"}},
            "target_transform must be one of level, return, log_return, diff",
        ),
        ({"model": {"layers": []}}, "must be a non-empty list"),
        ({"model": {"layers": [{"units": 8, "dropout": 1.5}]}}, "#1: dropout must be in [0, 1)"),
        ({"data": {"test_fraction": 1.0}}, "test_fraction must be in (0, 1)"),
        ({"model": {"cell": "lstm2"}}, "[model] cell must be one of lstm, peephole, cifg, gru"),
        (
            {"model": {"layers": [{"units": 8, "cell": "rnn"}]}},
            "#1: cell must be one of lstm, peephole, cifg, gru (or left out), got 'rnn'",
        ),
        ({"forecast": {"samples": -1}}, "[forecast] samples must be in [0, 10000]"),
        ({"forecast": {"samples": 10**9}}, "[forecast] samples must be in [0, 10000] (each is"),
        ({"forecast": {"scale": "vol"}}, "[forecast] scale must be one of ewma-model, ewma,"),
        ({"forecast": {"online": "pid"}}, "[forecast] online must be one of aci, track, none"),
        ({"forecast": {"tracking_rate": 1.5}}, "[forecast] tracking_rate must be in [0, 1)"),
        (
            {"forecast": {"scale": "garch", "interval_scale": "volatility"}},
            "[forecast] sets both scale = 'garch' and interval_scale = 'volatility'",
        ),
        ({"forecast": {"exogenous": "hold"}}, "unknown key 'exogenous'"),
        ({"data": {"features": "Volume"}}, "[data] features must be a list of strings"),
        ({"data": {"features": ["ema(Close, 3)"]}}, "'ema(Close, 3)' is not a feature"),
        ({"forecast": {"level": 1.0}}, "[forecast] level must be in (0, 1)"),
        ({"train": {"optimizer": "adamax2"}}, "optimizer must be one of"),
    ],
)
def test_invalid_values_name_the_key(raw, message):
    with pytest.raises(ConfigError) as error:
        config_from_dict(raw, source="my.toml")
    assert message in str(error.value)
    assert str(error.value).startswith("my.toml")


def test_an_unquoted_toml_date_is_taken_as_its_text(tmp_path):
    path = tmp_path / "dates.toml"
    path.write_text("[data]\ntest_start = 2018-12-28\n")
    assert load_config(path).data.test_start == "2018-12-28"
    assert config_from_dict({"data": {"test_start": "2018-12-28"}}).data.test_start == "2018-12-28"


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nepochs = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_overrides_skip_none_and_validate():
    config = with_overrides(Config(), train__epochs=7, data__target=None)
    assert config.train.epochs == 7
    assert config.data.target == Config().data.target
    with pytest.raises(ConfigError, match="epochs must be at least 1"):
        with_overrides(Config(), train__epochs=0)


def test_a_config_saved_with_a_byte_order_mark_reads(tmp_path):
    path = tmp_path / "notepad.toml"
    path.write_bytes(b"\xef\xbb\xbf[train]\nepochs = 3\n")
    assert load_config(path).train.epochs == 3


def test_calibration_origins_is_all_or_held_out():
    from lstm_forecast.config.load import config_from_dict

    assert config_from_dict({}).forecast.calibration_origins == "all"
    held_out = config_from_dict({"forecast": {"calibration_origins": "held-out"}})
    assert held_out.forecast.calibration_origins == "held-out"
    with pytest.raises(ConfigError, match='calibration_origins must be "all" or "held-out"'):
        config_from_dict({"forecast": {"calibration_origins": "tail"}})
