"""The spec front end: reads ``scaffold new`` specs and lowers them to the IR.

``spec`` holds the parsed, located spec objects; ``expressions`` parses layer calls,
``yaml_reader`` YAML files and ``one_line`` the ``--layers`` chain; ``validate`` checks a
spec against the layer ``catalog`` and reports locations; ``lower`` turns a checked spec
into the IR; ``presets/`` are shipped specs. Nothing here imports Keras.
"""
