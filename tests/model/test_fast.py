"""The fast training path computes what Keras computes.

Everything that involves no randomness is compared with Keras itself: predictions, loss and
gradients of one batch, Adam steps, and whole epochs of training (no dropout, no shuffling)
including the short last batch, the validation split and early stopping. With dropout, the
gradients are compared with the Keras layers applied with the same masks.

Tolerances: float32 arithmetic done in another order, so values agree to ~1e-6 relative;
predictions to 1e-5 absolute, gradients to 1e-4 of the largest gradient entry, weights after
training to 1e-4 absolute.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstm_forecast.config.load import with_overrides
from lstm_forecast.config.schema import Config, LayerConfig, ModelConfig, TrainConfig
from lstm_forecast.model import fast, fast_graph
from lstm_forecast.model.build import build_model, keras

tf = fast_graph._tf()

LAYERS = (LayerConfig(units=6, dropout=0.0), LayerConfig(units=4, dropout=0.0))


def make_model(layers=LAYERS, length=7, features=2, seed=0):
    keras.utils.set_random_seed(seed)
    return build_model(ModelConfig(layers=layers), length, features)


def make_data(rows=30, length=7, features=2, seed=1):
    generator = np.random.default_rng(seed)
    x = generator.uniform(0, 1, (rows, length, features)).astype(np.float32)
    y = generator.uniform(0, 1, (rows, 1)).astype(np.float32)
    return x, y


def spec_for(layers=LAYERS, loss="mse"):
    return fast.Spec(
        units=tuple(layer.units for layer in layers),
        dropout=tuple(layer.dropout for layer in layers),
        loss=loss,
    )


def as_tensors(weights):
    return tuple(tf.constant(w) for w in weights)


def relative_error(ours, theirs):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    return float(np.abs(ours - theirs).max() / (np.abs(theirs).max() + 1e-12))


def test_predictions_match_keras():
    model = make_model()
    x, _ = make_data()
    net = fast_graph.FastLSTM(spec_for(), batch_size=8, learning_rate=1e-3)
    ours = net.predict(as_tensors(fast.keras_weights(model)), tf.constant(x)).numpy()
    np.testing.assert_allclose(ours, model(x, training=False).numpy(), atol=1e-5)


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_loss_and_gradients_match_keras(loss):
    model = make_model()
    x, y = make_data(rows=8)
    y = y * 3  # errors beyond 1 exercise both branches of the Huber loss
    net = fast_graph.FastLSTM(spec_for(loss=loss), batch_size=8, learning_rate=1e-3)
    ours_loss, ours = net.gradients(
        as_tensors(fast.keras_weights(model)), tf.constant(x), tf.constant(y), tf.ones([8, 1]), ()
    )
    with tf.GradientTape() as tape:
        keras_loss = keras.losses.get(loss)(y, model(x, training=False))
        keras_loss = tf.reduce_mean(keras_loss)
    theirs = tape.gradient(keras_loss, model.trainable_variables)
    assert float(ours_loss) == pytest.approx(float(keras_loss), rel=1e-5)
    assert len(ours) == len(theirs)
    for mine, keras_gradient in zip(ours, theirs, strict=True):
        assert relative_error(mine.numpy(), keras_gradient.numpy()) < 1e-4


def test_zero_weight_rows_do_not_change_the_gradient():
    """A short last batch is padded with zero-weight rows; they must contribute nothing."""
    model = make_model()
    x, y = make_data(rows=8)
    net = fast_graph.FastLSTM(spec_for(), batch_size=8, learning_rate=1e-3)
    weights = as_tensors(fast.keras_weights(model))
    row_weight = tf.constant([[1.0]] * 5 + [[0.0]] * 3)
    _, padded = net.gradients(weights, tf.constant(x), tf.constant(y), row_weight, ())
    _, alone = net.gradients(weights, tf.constant(x[:5]), tf.constant(y[:5]), tf.ones([5, 1]), ())
    for a, b in zip(padded, alone, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_dropout_masks_sit_where_keras_puts_its_dropout_layers():
    layers = (LayerConfig(units=6, dropout=0.3), LayerConfig(units=4, dropout=0.5))
    model = make_model(layers)
    x, y = make_data(rows=8)
    spec = spec_for(layers)
    keep = fast.draw_masks(np.random.default_rng(3), spec, 1, x.shape[1], 8)
    assert [mask.shape for mask in keep] == [(1, 7, 8, 6), (1, 8, 4)]
    assert 0.1 < 1 - keep[0].mean() < 0.5  # about 30 % dropped
    keep = tuple(mask[0] for mask in keep)
    net = fast_graph.FastLSTM(spec, batch_size=8, learning_rate=1e-3, shards=1)
    weights = as_tensors(fast.keras_weights(model))
    _, ours = net.gradients(weights, tf.constant(x), tf.constant(y), tf.ones([8, 1]), keep)
    lstm_1, lstm_2 = (layer for layer in model.layers if isinstance(layer, keras.layers.LSTM))
    dense = model.layers[-1]
    below = np.transpose(keep[0], (1, 0, 2)) / 0.7  # masks are time-major; Keras scales kept units
    with tf.GradientTape() as tape:
        out = dense(lstm_2(lstm_1(x) * below) * (keep[1] / 0.5))
        loss = tf.reduce_mean((out - y) ** 2)
    theirs = tape.gradient(loss, model.trainable_variables)
    for mine, keras_gradient in zip(ours, theirs, strict=True):
        assert relative_error(mine.numpy(), keras_gradient.numpy()) < 1e-4


def test_shards_add_up_to_the_whole_batch():
    """A batch cut into parts computed side by side gives the batch's loss and gradients."""
    layers = (LayerConfig(units=6, dropout=0.3), LayerConfig(units=4, dropout=0.5))
    model = make_model(layers)
    x, y = make_data(rows=11)
    spec = spec_for(layers)
    keep = tuple(m[0] for m in fast.draw_masks(np.random.default_rng(4), spec, 1, 7, 11))
    weights = as_tensors(fast.keras_weights(model))
    row_weight = tf.constant([[1.0]] * 9 + [[0.0]] * 2)
    results = [
        fast_graph.FastLSTM(spec, batch_size=11, learning_rate=1e-3, shards=shards).gradients(
            weights, tf.constant(x), tf.constant(y), row_weight, keep
        )
        for shards in (1, 2, 3)
    ]
    for loss, grads in results[1:]:
        assert float(loss) == pytest.approx(float(results[0][0]), rel=1e-6)
        for mine, whole in zip(grads, results[0][1], strict=True):
            np.testing.assert_allclose(mine.numpy(), whole.numpy(), atol=1e-6)


def test_adam_steps_match_keras():
    generator = np.random.default_rng(2)
    weights = [generator.normal(0, 1, shape).astype(np.float32) for shape in ((3, 4), (4,))]
    variables = [keras.Variable(w) for w in weights]
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    ours = tuple(tf.constant(w) for w in weights)
    moments = velocities = tuple(tf.zeros_like(w) for w in ours)
    iteration = tf.constant(0.0)
    for _ in range(3):
        grads = [generator.normal(0, 1, w.shape).astype(np.float32) for w in weights]
        optimizer.apply_gradients(zip([tf.constant(g) for g in grads], variables, strict=True))
        ours, moments, velocities, iteration = fast_graph._adam(
            tf, ours, moments, velocities, [tf.constant(g) for g in grads], iteration, 0.01
        )
    for mine, variable in zip(ours, variables, strict=True):
        np.testing.assert_allclose(mine.numpy(), variable.numpy(), atol=1e-6)


def keras_fit(model, x, y, epochs, batch_size, validation_fraction, patience, learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    callbacks = []
    if patience:
        monitor = "val_loss" if validation_fraction else "loss"
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=patience, restore_best_weights=True
            )
        )
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        validation_split=validation_fraction,
        shuffle=False,
        callbacks=callbacks,
        verbose=0,
    )
    return history.history


@pytest.mark.parametrize(
    ("validation_fraction", "patience", "learning_rate", "epochs"),
    [(0.2, 0, 1e-2, 3), (0.0, 0, 1e-2, 2), (0.2, 1, 0.3, 12)],
    ids=["validation split", "no validation", "early stopping"],
)
def test_training_matches_keras_fit(validation_fraction, patience, learning_rate, epochs):
    """Whole epochs with a short last batch (24 rows in batches of 7), without randomness."""
    x, y = make_data(rows=30)
    model = make_model()
    initial = fast.keras_weights(model)
    result = fast.fit(
        spec_for(),
        initial,
        x,
        y,
        epochs=epochs,
        batch_size=7,
        learning_rate=learning_rate,
        validation_fraction=validation_fraction,
        patience=patience,
        shuffle=False,
    )
    history = keras_fit(model, x, y, epochs, 7, validation_fraction, patience, learning_rate)
    assert len(result.history) == len(history["loss"])
    if patience:
        assert len(result.history) < epochs  # the case really stops early
    ours_loss = [epoch["loss"] for epoch in result.history]
    np.testing.assert_allclose(ours_loss, history["loss"], rtol=1e-4)
    if validation_fraction:
        ours_val = [epoch["val_loss"] for epoch in result.history]
        np.testing.assert_allclose(ours_val, history["val_loss"], rtol=1e-4)
    for mine, theirs in zip(result.weights, model.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-4)


def test_shuffled_training_with_dropout_learns_and_is_seeded():
    layers = (LayerConfig(units=6, dropout=0.2), LayerConfig(units=4, dropout=0.2))
    x = np.linspace(0, 1, 7 * 40, dtype=np.float32).reshape(40, 7, 1)
    y = x[:, -1, :] * 0.9
    model = make_model(layers, features=1)

    def run(seed):
        return fast.fit(
            spec_for(layers),
            fast.keras_weights(model),
            x,
            y,
            epochs=8,
            batch_size=8,
            learning_rate=0.02,
            seed=seed,
        )

    first, again, other = run(0), run(0), run(1)
    losses = [epoch["loss"] for epoch in first.history]
    assert losses[-1] < losses[0] / 2
    assert losses == [epoch["loss"] for epoch in again.history]
    assert losses != [epoch["loss"] for epoch in other.history]


def test_unsupported_configs_say_why():
    assert fast.unsupported_reason(Config().model, TrainConfig()) == ""
    gru = ModelConfig(cell="gru")
    assert "gru" in fast.unsupported_reason(gru, TrainConfig())
    assert "sgd" in fast.unsupported_reason(Config().model, TrainConfig(optimizer="sgd"))


def test_engine_setting_picks_the_trainer():
    from lstm_forecast.errors import ConfigError
    from lstm_forecast.model.train import resolve_engine

    config = Config()
    assert resolve_engine(config) == "fast"
    assert resolve_engine(with_overrides(config, train__engine="keras")) == "keras"
    assert resolve_engine(with_overrides(config, model__cell="peephole")) == "keras"
    with pytest.raises(ConfigError, match="engine"):
        resolve_engine(with_overrides(config, model__cell="gru", train__engine="fast"))
