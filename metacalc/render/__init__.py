"""Figures and the report, drawn from the results alone (never from the dataset): forest plots and overviews
(``forest``), time to onset (``onset``), risk of bias (``risk_of_bias``), the PRISMA flow diagram (``prisma``),
all of them written by ``figures``; the HTML report (``report``, with its sentences in ``sentences``) and its
numbered tables for a manuscript, read back from its HTML (``manuscript_tables``).

Nothing is imported here: the report step must not pay for matplotlib.
"""
