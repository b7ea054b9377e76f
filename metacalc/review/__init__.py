"""The review pipeline: the analysis plan (``plan``), running it (``analyse``), the figures (``figures``), the
report (``report``), the PRISMA flow (``prisma``), appraisal (``appraisal``, ``checklist``), the whole pipeline in
one process (``pipeline``) and a synthetic review for scale tests (``synthetic``).

Nothing is imported here: each workflow step is a new process and imports only what it uses.
"""
