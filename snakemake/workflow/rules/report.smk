rule report:
    """Render the report: one self-contained HTML file with inline SVG and CSS, no JavaScript, nothing from the
    network, titled and worded from the review file (which the results carry). Needs no scientific stack, so
    editing the template reruns only this quick job."""
    input:
        tables=rules.analyse.output.tables,
        figures=rules.analyse.output.figures,
    output:
        html=f"{OUT}/index.html",
        provenance=f"{OUT}/provenance.csv",
    message:
        "render the report"
    params:
        metacalc=METACALC,
        code=CODE,
        inline_max=config["provenance_inline_max"],
    log:
        f"{OUT}/logs/report.log",
    threads: 1
    resources:
        mem_mb=memory_mb("report"),
        runtime=10,
    shell:
        "{params.metacalc} report {input.tables:q}/results.json"
        " --figures {input.figures:q} --output {output.html:q} --provenance-inline-max {params.inline_max}"
        " > {log:q} 2>&1"


rule remember:
    """Keep this run's results as the history the next run's "what changed" compares with, once the report is
    built: a failed or killed run never becomes "the last run". Copied under a temporary name and renamed, so
    the history is always a whole file."""
    input:
        pending=rules.analyse.output.pending,
        html=rules.report.output.html,
    output:
        f"{OUT}/.history/results.json",
    message:
        "keep these results for the next run's change log"
    log:
        f"{OUT}/logs/remember.log",
    localrule: True
    shell:
        "{{ cp {input.pending:q} {output:q}.partial && mv {output:q}.partial {output:q}; }} > {log:q} 2>&1"
