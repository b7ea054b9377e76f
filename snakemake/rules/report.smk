rule figures:
    """Forest plots, overview, time to onset, PRISMA flow diagram and risk-of-bias plots."""
    input:
        results=rules.analyse.output.results,
        dataset=rules.validate.output[0],
    output:
        directory(f"{OUT}/figures"),
    params:
        png="--png" if config["png"] else "",
        palette=config["palette"],
        code=CODE,
    log:
        f"{OUT}/logs/figures.log",
    threads: 1
    resources:
        mem_mb=1500,
        runtime=20,
    shell:
        "{METACALC} figures {input.results:q} --dataset {input.dataset:q} --outdir {output:q}"
        " --palette {params.palette} {params.png} > {log:q} 2>&1"


rule report:
    """One self-contained HTML file: inline SVG and CSS, no JavaScript, nothing from the network."""
    input:
        results=rules.analyse.output.results,
        dataset=rules.validate.output[0],
        figures=rules.figures.output[0],
    output:
        f"{OUT}/index.html",
    params:
        title=config["title"],
        code=CODE,
    log:
        f"{OUT}/logs/report.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "{METACALC} report {input.results:q} --dataset {input.dataset:q} --figures {input.figures:q}"
        " --output {output:q} --title {params.title:q} > {log:q} 2>&1"
