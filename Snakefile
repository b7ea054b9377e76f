# This review's workflow is the one shipped with metacalc, used as a Snakemake module: nothing is copied, so the
# review runs the installed metacalc's workflow (its rules and every setting: snakemake/workflow/ in metacalc).
#
#   snakemake              # the whole report (profiles/default/config.yaml supplies --cores 1 and the summary)
#   snakemake -c2          # same, two jobs at a time
#   snakemake -n           # what would run, without running it
#
# The settings are in config.yaml; the review itself is review.yaml, extraction_sheets/, sources/, analyses/.

from metacalc.workflow import finished, snakefile


configfile: "config.yaml"


module review:
    snakefile:
        snakefile()
    config:
        config


use rule * from review


# Snakemake takes the default target, and what is said at the end of a run, from this file only.
rule default:
    default_target: True
    input:
        rules.all.input,


onsuccess:
    finished(config, log, success=True)


onerror:
    finished(config, log, success=False)
