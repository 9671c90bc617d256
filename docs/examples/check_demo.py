"""Compare the demo's original model with the generated subclass, output by output and
layer by layer, and print the measured differences."""

from __future__ import annotations

import sys
from pathlib import Path

from generator.keras_env import import_keras

keras = import_keras()  # Keras 3 on TensorFlow, without TensorFlow's start-up chatter

from generator.verify import (  # noqa: E402
    DEFAULT_ATOL,
    compare_layers,
    compare_outputs,
    import_source,
    layer_outputs,
    sample_inputs,
    transfer_weights,
)


def main(model_path: str, generated_path: str, class_name: str = "DemoModel") -> int:
    original = keras.models.load_model(model_path)
    module = import_source(Path(generated_path).read_text(), "demo_generated")
    generated = getattr(module, class_name)()
    generated.build(None)
    transfer_weights(original, generated)
    worst = 0.0
    print(f"{'compared':<24}{'shape':<18}{'max abs diff':>14}")
    for seed in range(3):
        inputs = sample_inputs(original, batch=8, seed=seed)
        diffs = compare_outputs(original(inputs, training=False), generated(inputs, training=False))
        diffs += compare_layers(layer_outputs(original, inputs), layer_outputs(generated, inputs))
        for diff in diffs:
            worst = max(worst, diff.max_abs)
            if seed == 0:
                print(f"{diff.label:<24}{str(diff.shape):<18}{diff.max_abs:>14.3g}")
    verdict = "EQUIVALENT" if worst <= DEFAULT_ATOL else "MISMATCH"
    print(f"{verdict}: max abs diff {worst:.3g} over 3 batches (tolerance {DEFAULT_ATOL:g})")
    return 0 if verdict == "EQUIVALENT" else 3


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
