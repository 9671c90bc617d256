"""Train Golden: an explicit, compiled training loop with checkpoints.

The task (classification) chose the losses and metrics below; replace ``load_data()`` and
``make_targets()`` with your dataset. Run ``python train.py --help`` for the options
(epochs, batch size, tf.distribute strategy, mixed precision, checkpoints, logs).
"""

import argparse
import csv
import math
import tempfile
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

# The model's package, so that this script runs without installing the project.
sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from golden.model import Golden  # noqa: E402


def make_strategy(name):
    """Where training runs: this process's devices one at a time ("default"), all its
    GPUs or logical CPUs in step ("mirrored"), or several machines ("multiworker", each
    told its role by the TF_CONFIG environment variable)."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
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


def make_losses(reduction="sum_over_batch_size"):
    """One loss per output, by name; reduction=None gives one value per example."""
    return {
        "output": tf.keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction=reduction
        )
    }


def make_metrics():
    """The metrics of each output, by name."""
    return {"output": [tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")]}


def is_chief(strategy):
    """Whether this process writes checkpoints, logs and the model (one worker does)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict()
    )


def by_output(values):
    """{output name: value} for targets, predictions, losses and metrics alike."""
    return {"output": values}


def update_metrics(metrics, targets, predictions):
    targets, predictions = by_output(targets), by_output(predictions)
    for name, output_metrics in metrics.items():
        for metric in output_metrics:
            metric.update_state(targets[name], predictions[name])


def metric_results(prefix, loss, metrics):
    results = {f"{prefix}loss": float(loss.result())}
    for name, output_metrics in metrics.items():
        for metric in output_metrics:
            label = metric.name if len(metrics) == 1 else f"{name}_{metric.name}"
            results[f"{prefix}{label}"] = float(metric.result())
    return results


class History:
    """One row per epoch in logs/history.csv (appended to when a run resumes), and in
    TensorBoard if asked."""

    def __init__(self, log_dir, tensorboard, write):
        self.rows, self.write = [], write
        self.path = Path(log_dir) / "history.csv"
        self.summaries = None
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if tensorboard:
                self.summaries = tf.summary.create_file_writer(
                    str(Path(log_dir) / "tensorboard")
                )

    def add(self, epoch, results):
        self.rows.append(results)
        if not self.write:
            return
        new_file = not self.path.exists()
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["epoch", *results])
            if new_file:
                writer.writeheader()
            writer.writerow({"epoch": epoch, **results})
        if self.summaries is not None:
            with self.summaries.as_default():
                for key, value in results.items():
                    tf.summary.scalar(key, value, step=epoch)


def compute_loss(model, losses, targets, predictions):
    """This replica's share of the mean loss over the global batch: summed over the
    replicas (as the optimizer sums their gradients) it is the batch's mean loss."""
    targets, predictions = by_output(targets), by_output(predictions)
    total = 0.0
    for name, loss_fn in losses.items():
        values = loss_fn(targets[name], predictions[name])
        per_example = tf.reduce_mean(
            tf.reshape(values, [tf.shape(values)[0], -1]), axis=1
        )
        # Divided by the global batch size (this replica's batch times the replicas).
        total += tf.nn.compute_average_loss(per_example)
    if model.losses:
        # Regularizers and add_loss(), divided by the number of replicas.
        total += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
    return total


def make_train_step(strategy, model, optimizer, losses, metrics, mean_loss):
    """One optimizer step on a (distributed) batch, compiled into one graph."""

    def replica_step(inputs, targets):
        with tf.GradientTape() as tape:
            predictions = model(inputs, training=True)
            loss = compute_loss(model, losses, targets, predictions)
            # Scaled for mixed precision (else unchanged); apply() unscales the gradients
            # and sums them over the replicas.
            scaled_loss = optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss, predictions

    @tf.function
    def train_step(batch):
        loss, predictions = strategy.run(replica_step, args=batch)
        return update(strategy, metrics, mean_loss, batch, loss, predictions)

    return train_step


def make_validation_step(strategy, model, losses, metrics, mean_loss):
    """The loss and metrics on a (distributed) batch, in inference mode."""

    def replica_step(inputs, targets):
        predictions = model(inputs, training=False)
        return compute_loss(model, losses, targets, predictions), predictions

    @tf.function
    def validation_step(batch):
        loss, predictions = strategy.run(replica_step, args=batch)
        return update(strategy, metrics, mean_loss, batch, loss, predictions)

    return validation_step


def update(strategy, metrics, mean_loss, batch, loss, predictions):
    """Gather the replicas' results, update the metrics, return the batch's mean loss."""
    loss = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
    targets, predictions = tf.nest.map_structure(
        lambda value: strategy.gather(value, axis=0), (batch[1], predictions)
    )
    update_metrics(metrics, targets, predictions)
    mean_loss.update_state(loss, sample_weight=tf.shape(tf.nest.flatten(targets)[0])[0])
    return loss


def train(strategy, inputs, targets, args):
    """The training loop written out, for full control of every step.

    Each step runs as one compiled graph on every replica of the strategy;
    ``training=True`` reaches Dropout and BatchNormalization, validation uses
    ``training=False``. A checkpoint (weights, optimizer state, the step counter) is
    saved every epoch, every ``--checkpoint-every`` steps and when ``--max-steps`` stops
    the run; running again resumes from the latest one, on the same batches. With
    several workers, ``--checkpoint-dir`` must be storage that every worker reads.
    """
    count = len(tf.nest.flatten(inputs)[0])
    held_out = max(1, count // 5)  # the last fifth of the examples validates
    train_examples = examples(inputs, targets, 0, count - held_out)
    validation = examples(inputs, targets, count - held_out, count).batch(
        args.batch_size
    )
    steps_per_epoch = math.ceil((count - held_out) / args.batch_size)

    # Variables are created where the strategy keeps them.
    with strategy.scope():
        model = Golden()
        # Creates the weights now: the class knows its input shapes.
        model.build(None)
        optimizer = make_optimizer(args.learning_rate)
        if args.mixed_precision:
            # Scales the loss up so that float16 gradients do not vanish.
            optimizer = tf.keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(model.trainable_variables)
        # One loss value per example: compute_loss averages them over the global batch.
        losses = make_losses(reduction=None)
        train_metrics, validation_metrics = make_metrics(), make_metrics()
        train_loss, validation_loss = tf.keras.metrics.Mean(), tf.keras.metrics.Mean()
    train_step = make_train_step(
        strategy, model, optimizer, losses, train_metrics, train_loss
    )
    validation_step = make_validation_step(
        strategy, model, losses, validation_metrics, validation_loss
    )

    # Batches trained so far (optimizer.iterations does not count a step that mixed
    # precision skips). model.variables adds the random state of Dropout and the noise
    # layers, which the model does not track itself: a resumed run draws the same masks.
    step = tf.Variable(0, dtype="int64", trainable=False, name="step")
    checkpoint = tf.train.Checkpoint(
        step=step, model=model, optimizer=optimizer, variables=model.variables
    )
    chief = is_chief(strategy)
    # Every worker restores; only the chief writes where the others read.
    latest = tf.train.latest_checkpoint(args.checkpoint_dir)
    if latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
        print(f"resumed from {latest}")
    directory = args.checkpoint_dir if chief else tempfile.mkdtemp()
    manager = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=3)

    def steps_done():
        return int(step.numpy())

    history = History(args.log_dir, args.tensorboard, write=chief)
    every_metric = [train_loss, validation_loss]
    for metrics in (train_metrics, validation_metrics):
        every_metric += [
            metric for output_metrics in metrics.values() for metric in output_metrics
        ]
    best_loss, best_weights, waited = math.inf, None, 0
    for epoch in range(steps_done() // steps_per_epoch, args.epochs):
        for metric in every_metric:
            metric.reset_state()
        # Each epoch shuffles with its own seed, so a resumed run sees the same batches
        # (and skips those it trained already).
        batches = train_examples.shuffle(count, seed=args.seed + epoch).batch(
            args.batch_size
        )
        batches = batches.skip(steps_done() - epoch * steps_per_epoch)
        progress = tf.keras.utils.Progbar(steps_per_epoch, verbose=1 if chief else 0)
        print(f"epoch {epoch + 1}/{args.epochs}")
        stopping = False
        for batch in strategy.experimental_distribute_dataset(batches):
            loss = train_step(batch)
            step.assign_add(1)
            progress.update(
                steps_done() - epoch * steps_per_epoch, [("loss", float(loss))]
            )
            stopping = bool(args.max_steps) and steps_done() >= args.max_steps
            if stopping:
                break
            if args.checkpoint_every and steps_done() % args.checkpoint_every == 0:
                manager.save(checkpoint_number=steps_done())
        if stopping and steps_done() % steps_per_epoch:  # mid-epoch: no validation yet
            manager.save(checkpoint_number=steps_done())
            print(f"stopped at step {steps_done()} (--max-steps); run again to resume")
            return model, {"loss": [float(train_loss.result())]}
        for batch in strategy.experimental_distribute_dataset(validation):
            validation_step(batch)
        results = {
            **metric_results("", train_loss, train_metrics),
            **metric_results("val_", validation_loss, validation_metrics),
        }
        # Epochs are counted from 0, as Keras's CSVLogger does.
        history.add(epoch, results)
        manager.save(checkpoint_number=steps_done())
        print(" - ".join(f"{key}: {value:.4f}" for key, value in results.items()))
        if stopping:
            print(f"stopped at step {steps_done()} (--max-steps); run again to resume")
            break
        if results["val_loss"] < best_loss:
            best_loss, best_weights, waited = (
                results["val_loss"],
                model.get_weights(),
                0,
            )
        else:
            waited += 1
            if waited >= args.patience:
                print(f"early stop: no better validation loss for {waited} epochs")
                model.set_weights(best_weights)
                break
    if not history.rows:
        raise SystemExit(
            f"nothing to train: all {args.epochs} epochs are done (see {latest})"
        )
    return model, {"loss": [row["loss"] for row in history.rows]}


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="global batch size")
    parser.add_argument("--examples", type=int, default=256, help="synthetic examples")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--strategy", choices=["default", "mirrored", "multiworker"], default="default"
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
    parser.add_argument(
        "--checkpoint-every", type=int, default=0, help="also checkpoint every N steps"
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        default=0,
        help="stop after N steps in all (0: no limit)",
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
    save_path = args.save if is_chief(strategy) else f"{args.save}.worker.keras"
    model.save(save_path)  # every worker saves (the save may need them all)
    print(f"final loss {history['loss'][-1]:.4f}; saved {save_path}")


if __name__ == "__main__":
    main()
