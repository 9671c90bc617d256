"""The core: the frozen intermediate representation and the one name registry.

Both front ends (``from_keras``, ``from_spec``) produce ``ir.ModuleIR``; the ``output``
stage consumes it. Nothing here imports Keras, TensorFlow, Jinja or Black.
"""
