"""Kept only for tests/test_workflow.py, which the workflow branch owns: ``build_report`` is now
``metacalc.pipeline.run_review``. Remove this module when that test calls ``run_review``.

(The import runs the wrong way, review -> pipeline; tests/test_layers.py exempts this one module by name.)
"""

from metacalc.pipeline import run_review as build_report

__all__ = ["build_report"]
