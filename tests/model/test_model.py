import numpy as np
import pytest
from conftest import ROOT

from lstm_forecast.config.load import load_config
from lstm_forecast.config.schema import Config, LayerConfig, ModelConfig, TrainConfig
from lstm_forecast.model.build import build_model, compile_model, keras

CONFIGS = ROOT / "configs"


def lstm_parameters(units: int, inputs: int) -> int:
    # four gates, each with input weights, recurrent weights and a bias
    return 4 * (units * inputs + units * units + units)


def test_reference_model_architecture():
    model = build_model(load_config(CONFIGS / "seed.toml").model, window_length=60)
    kinds = [layer.__class__.__name__ for layer in model.layers]
    assert kinds == ["InputLayer"] + ["LSTM", "Dropout"] * 4 + ["Dense"]
    lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert [layer.return_sequences for layer in lstms] == [True, True, True, False]
    assert all(
        layer.rate == 0.2 for layer in model.layers if isinstance(layer, keras.layers.Dropout)
    )
    expected = lstm_parameters(50, 1) + 3 * lstm_parameters(50, 50) + (50 + 1)
    assert model.count_params() == expected == 71_051
    assert model.output_shape == (None, 1)


def test_zero_dropout_adds_no_layer_and_shapes_follow_the_window():
    model = build_model(ModelConfig(layers=(LayerConfig(units=8, dropout=0.0),)), 12, n_features=3)
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    outputs = model.predict(np.zeros((5, 12, 3), np.float32), verbose=0)
    assert outputs.shape == (5, 1)


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd"])
def test_compile_uses_the_configured_optimizer_and_rate(optimizer):
    model = build_model(Config().model, 4)
    compile_model(model, TrainConfig(optimizer=optimizer, learning_rate=0.01, loss="mae"))
    assert type(model.optimizer).__name__.lower() == optimizer
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)


def test_the_pool_lends_one_model_per_shape_with_its_seed_weights_and_keeps_the_newest():
    from lstm_forecast.model.build import ModelPool

    pool = ModelPool(size=2)
    small, wide = ModelConfig(), ModelConfig(layers=(LayerConfig(units=8),))
    first = pool.model(small, TrainConfig(seed=1), 10, 1)
    initial = [w.copy() for w in first.get_weights()]
    first.set_weights([w + 1.0 for w in initial])  # trained, say
    again = pool.model(small, TrainConfig(seed=1), 10, 1, keras_trains=False)
    assert again is first  # lent again, not built
    for lent, built in zip(again.get_weights(), initial, strict=True):
        np.testing.assert_array_equal(lent, built)  # the seed's initial weights are back
    assert pool.model(small, TrainConfig(seed=2), 10, 1) is not first  # another seed
    assert pool.model(wide, TrainConfig(seed=1), 10, 1) is not first  # another shape
    # size 2: the two used last are kept, the oldest was built again
    assert pool.model(small, TrainConfig(seed=1), 10, 1) is not first
