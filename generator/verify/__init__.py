"""Verification: proves numerically that a generated module computes what a model does.

The stage's modules, in the order a verification uses them: ``isolation`` imports the
generated source, ``pairing`` matches layers and copies weights, ``sample_inputs`` makes
seeded inputs, ``recording`` runs a model and records every layer, ``compare`` turns
arrays into checks, ``verifier`` runs the checks in order, ``report`` holds the result
and prints it; ``smoke`` is ``scaffold new --smoke-test``.

The names below are the stage's public API; ``verify_files`` is what the tests written
by ``scaffold convert --emit-test`` import, so it stays here.
"""

from generator.errors import VerificationError
from generator.verify.compare import Difference, compare_outputs
from generator.verify.isolation import import_source, load_generated_class
from generator.verify.pairing import transfer_weights
from generator.verify.report import DEFAULT_ATOL, DEFAULT_RTOL, Check, Report, Tolerance
from generator.verify.sample_inputs import sample_inputs
from generator.verify.verifier import verify, verify_files, verify_source

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "Check",
    "Difference",
    "Report",
    "Tolerance",
    "VerificationError",
    "compare_outputs",
    "import_source",
    "load_generated_class",
    "sample_inputs",
    "transfer_weights",
    "verify",
    "verify_files",
    "verify_source",
]
