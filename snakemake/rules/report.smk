rule report:
    """Draw the figures (forest plots, overview, time to onset, PRISMA flow, risk of bias) and render the report:
    one self-contained HTML file with inline SVG and CSS, no JavaScript, nothing from the network. One job, so
    that Python and the plotting stack start once."""
    input:
        results=rules.analyse.output.results,
        dataset=rules.validate.output[0],
    output:
        figures=directory(f"{OUT}/figures"),
        html=f"{OUT}/index.html",
    params:
        metacalc=METACALC,
        title=config["title"],
        png="--png" if config["png"] else "",
        palette=config["palette"],
        max_rows=config["max_plot_rows"],
        code=CODE,
    log:
        f"{OUT}/logs/report.log",
    threads: 1
    resources:
        mem_mb=1500,
        runtime=20,
    shell:
        "{params.metacalc} report {input.results:q} --dataset {input.dataset:q} --figures {output.figures:q}"
        " --output {output.html:q} --title {params.title:q} --draw-figures --palette {params.palette}"
        " --max-rows {params.max_rows} {params.png} > {log:q} 2>&1 || {{ cat {log:q} >&2; exit 1; }}"
