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
        patients=f"{OUT}/patients.csv",
        reports=f"{OUT}/reports.csv",
        manuscript_tables=directory(f"{OUT}/manuscript_tables"),  # the numbered tables: CSV, XLSX, DOCX
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

