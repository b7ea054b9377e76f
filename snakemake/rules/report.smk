rule report:
    """Render the report: one self-contained HTML file with inline SVG and CSS, no JavaScript, nothing from the
    network. Needs no scientific stack, so editing the template reruns only this quick job."""
    input:
        results=rules.analyse.output.results,
        dataset=rules.analyse.output.dataset,
        figures=rules.analyse.output.figures,
    output:
        html=f"{OUT}/index.html",
    params:
        metacalc=METACALC,
        title=config["title"],
        code=CODE,
    log:
        f"{OUT}/logs/report.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "{params.metacalc} report {input.results:q} --dataset {input.dataset:q} --figures {input.figures:q}"
        " --output {output.html:q} --title {params.title:q} > {log:q} 2>&1 || {{ cat {log:q} >&2; exit 1; }}"
