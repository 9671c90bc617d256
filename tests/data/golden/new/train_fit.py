"""Train Golden: compile() and fit().

The task (classification) chose the losses and metrics below; replace ``load_data()`` and
``make_targets()`` with your dataset. Run ``python train.py --help`` for the options
(epochs, batch size, tf.distribute strategy, mixed precision, checkpoints, logs).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

# The model's package, so that this script runs without installing the project.
sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from golden.model import Golden  # noqa: E402


def make_strategy(name):
    """Where training runs: this process's devices one at a time ("default"), or all
    its GPUs or logical CPUs in step ("mirrored")."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def load_data(num_examples, seed=0):
    """Synthetic inputs in the model's input structure: plug your own data in here."""
    rng = np.random.default_rng(seed)
    inputs = {
        "inputs": rng.standard_normal((num_examples, 784)).astype("float32"),
    }
    inputs = next(iter(inputs.values()))
    return inputs


def make_targets(inputs, seed=1):
    """Stand-in targets (class indices), from what a second, randomly initialized Golden
    predicts: targets this architecture can learn. Replace them with your labels."""
    tf.keras.utils.set_random_seed(seed)
    outputs = Golden()(inputs, training=False)
    return np.argmax(outputs, axis=-1)


def examples(inputs, targets, start, stop):
    """Examples ``start`` to ``stop`` as a dataset of (inputs, targets) pairs."""
    return tf.data.Dataset.from_tensor_slices(
        tf.nest.map_structure(lambda array: array[start:stop], (inputs, targets))
    )


def make_optimizer(learning_rate):
    return tf.keras.optimizers.Adam(learning_rate)


def make_losses():
    """One loss per output, in the model's output structure, for compile()."""
    return tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def make_metrics():
    """The metrics of each output, for compile()."""
    return [tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")]


def datasets(inputs, targets, batch_size, seed):
    """Training and validation batches (the last fifth of the examples validates)."""
    count = len(tf.nest.flatten(inputs)[0])
    held_out = max(1, count // 5)
    train = examples(inputs, targets, 0, count - held_out).shuffle(count, seed=seed)
    validation = examples(inputs, targets, count - held_out, count)
    return train.batch(batch_size), validation.batch(batch_size)


def train(strategy, inputs, targets, args):
    """compile() and fit().

    Callbacks keep the best weights, resume an interrupted run (BackupAndRestore), log
    each epoch and stop early. Not with several machines: in Keras 3.15, fit()
    under MultiWorkerMirroredStrategy fails on its first batch (it reduces the whole
    per-replica batch at once); the loop of ``scaffold new --loop custom`` runs there.
    """
    train_data, validation_data = datasets(inputs, targets, args.batch_size, args.seed)
    # Variables are created where the strategy keeps them.
    with strategy.scope():
        model = Golden()
        # Creates the weights now: the class knows its input shapes.
        model.build(None)
        model.compile(
            optimizer=make_optimizer(args.learning_rate),
            loss=make_losses(),
            metrics=make_metrics(),
        )
    checkpoints, logs = Path(args.checkpoint_dir), Path(args.log_dir)
    logs.mkdir(parents=True, exist_ok=True)
    callbacks = [
        tf.keras.callbacks.BackupAndRestore(str(checkpoints / "backup")),
        tf.keras.callbacks.ModelCheckpoint(
            str(checkpoints / "best.weights.h5"),
            save_best_only=True,
            save_weights_only=True,
        ),
        tf.keras.callbacks.CSVLogger(str(logs / "history.csv"), append=True),
        tf.keras.callbacks.EarlyStopping(
            patience=args.patience, restore_best_weights=True
        ),
    ]
    if args.tensorboard:
        callbacks.append(tf.keras.callbacks.TensorBoard(str(logs / "tensorboard")))
    history = model.fit(
        train_data,
        validation_data=validation_data,
        epochs=args.epochs,
        callbacks=callbacks,
        verbose=2,
    )
    return model, history.history


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="global batch size")
    parser.add_argument("--examples", type=int, default=256, help="synthetic examples")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--strategy", choices=["default", "mirrored"], default="default"
    )
    parser.add_argument(
        "--mixed-precision",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="compute in float16, keep weights in float32 (needs a GPU to be faster)",
    )
    parser.add_argument("--checkpoint-dir", default="checkpoints")
    parser.add_argument(
        "--log-dir", default="logs", help="history.csv (and TensorBoard)"
    )
    parser.add_argument(
        "--tensorboard", action="store_true", help="also write TensorBoard logs"
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=5,
        help="epochs without a better validation loss",
    )
    parser.add_argument("--save", default="golden.keras")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_arguments(argv)
    tf.keras.utils.set_random_seed(args.seed)
    if args.mixed_precision:
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    strategy = make_strategy(args.strategy)
    inputs = load_data(args.examples, seed=args.seed)
    targets = make_targets(inputs)
    model, history = train(strategy, inputs, targets, args)
    save_path = args.save
    model.save(save_path)
    print(f"final loss {history['loss'][-1]:.4f}; saved {save_path}")


if __name__ == "__main__":
    main()
