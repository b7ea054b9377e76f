"""The review workflow's files (Snakefile, rules/, schemas/). Not Python code: this file makes the folder the
package ``metacalc.workflow.files``, so that it ships inside metacalc and an editable install finds it here
(see ``metacalc.workflow.folder``)."""
