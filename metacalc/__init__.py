"""metacalc: systematic reviews that pool evidence from clinical case reports and case series.

Imports are lazy on purpose: the workflow starts a Python process per step, and importing the
scientific stack costs seconds, so each command imports only what it uses.
"""

__version__ = "0.1.0"
