"""The ``dtehub`` command's entry point: it imports the CLI only when it runs.

A worker process that the command spawns (``dtehub import``'s readers, the web app's imports under
``dtehub serve``) runs the command's script again as its main module, without calling it: were the
script to import :mod:`dtehub.cli`, every worker would import the whole application (FastAPI, the
models, reportlab) before its first task. Through this module it imports only its task's own module
(:mod:`dtehub.ingest.reading`).
"""

from __future__ import annotations


def main() -> None:
    from dtehub.cli import main as run  # here, not above: the point of this module

    run()
