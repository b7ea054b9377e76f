"""The review: the analysis plan (``plan``), the analyses by concept (``selection``, ``response``, ``onset``,
``sensitivity``, ``duplicates``, ``ledger``, ``appraisal``, ``changes``), their typed results (``results``,
``document``) and how they are written (``results_io``), run by one orchestrator (``run``); the words of the
review (``words``), the PRISMA checklist (``checklist``) and a synthetic review for scale tests (``synthetic``).

Nothing is imported here: each workflow step is a new process and imports only what it uses.
"""
