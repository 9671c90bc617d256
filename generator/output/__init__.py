"""Output: turns the IR into files.

``source`` writes IR values as Python expressions; ``render`` fills the Jinja templates
(top-level ``templates/``); ``formatting`` gives Black's bytes; ``writing`` writes files
atomically and compares them for ``--check``/``--diff``; ``project`` renders and writes
the project of ``scaffold new``.
"""
