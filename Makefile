# The two set-up commands of the README: `make demo` and `make test`.
# Both create .venv and install the project on first use (with the TensorFlow build
# that fits the platform), and only reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

UNAME_S := $(shell uname -s)
ifeq ($(UNAME_S),Darwin)
TF_EXTRA := tensorflow
else
TF_EXTRA := cpu
endif

.PHONY: install demo test test-full lint golden catalog bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$(TF_EXTRA),dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	mkdir -p demo
	$(BIN)/python docs/examples/build_demo_model.py demo/demo_model.keras
	$(BIN)/scaffold convert demo/demo_model.keras -o demo/demo_model.py --force

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not full"

test-full: $(STAMP)
	SCAFFOLD_FULL=1 $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check generator tests docs benchmarks
	$(BIN)/ruff format --check generator tests docs benchmarks
	$(BIN)/mypy

golden: $(STAMP)
	SCAFFOLD_REGENERATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/test_golden.py tests/test_new.py tests/test_training.py tests/test_packs.py tests/test_structure.py -k "golden or seed or multi_input_spec or team_style or resnet50_factors or pads_and or documented_resnet50"

catalog: $(STAMP)
	$(BIN)/python -m generator.from_spec.catalog

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
