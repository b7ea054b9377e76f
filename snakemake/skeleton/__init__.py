"""The files of a new review, which ``metacalc init`` copies (all but this one). Not Python code: this file makes
the folder the package ``metacalc.workflow.skeleton``, so that it ships inside metacalc and an editable install
finds it here (see ``metacalc.workflow.folder``)."""
