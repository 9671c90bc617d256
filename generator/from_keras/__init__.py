"""The Keras front end: loads a model and reads its graph into the IR.

``environment`` checks Keras 3 on TensorFlow and imports it lazily; ``loading`` opens
``.keras``/``.h5`` files and ``module:attr`` references; ``graph`` replays the graph as IR
steps, with ``values`` (constructor arguments and config values) and ``ops``
(``keras.ops`` nodes); ``class_source`` and ``function_source`` copy code that cannot be
imported; ``internals`` is the only module that touches private Keras state.
"""
