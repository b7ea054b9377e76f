# metacalc review workflow. The rules live in snakemake/Snakefile; this file exists because Snakemake looks for
# a Snakefile only in the working directory (or workflow/), and an included file never sets the default target.
#
#   snakemake              # whole report (profiles/default/config.yaml supplies --cores 1)
#   snakemake -c2          # same, two jobs at a time
#   snakemake -n           # what would run, without running it

include: "snakemake/Snakefile"


rule default:
    default_target: True
    input:
        rules.all.input,
