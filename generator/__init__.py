"""keras-scaffold: write clean ``keras.Model`` subclasses from specs and existing models."""

__version__ = "0.1.0"
