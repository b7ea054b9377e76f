rule analyse:
    """Validate the extraction sheets (the typed dataset with derived values), run the analysis plan (pooled
    numbers with provenance, the PRISMA check, the ledger of unused rows) and draw the figures (forest plots,
    overview, time to onset, PRISMA flow, risk of bias). One job, so that Python and the scientific stack start
    once: on a review of case reports, starting them costs more than the work."""
    input:
        sheets=SHEETS,
        plan=PLAN,
    output:
        dataset=f"{OUT}/dataset.json",
        results=f"{OUT}/tables/results.json",
        excluded=f"{OUT}/tables/excluded_rows.csv",
        tables=expand(f"{OUT}/tables/{{analysis}}.csv", analysis=ANALYSES),
        figures=directory(f"{OUT}/figures"),
    params:
        metacalc=METACALC,
        sheets=lambda wildcards: config["sheets"],
        plan=lambda wildcards: config["analyses"],
        outdir=lambda wildcards, output: os.path.dirname(output.results),
        history=f"{OUT}/.history/results.json",
        level=config["level"],
        method=config["method"],
        measure=config["measure"],
        tau2=config["tau2_method"],
        knha="--knha" if config["knha"] else "",
        png="--png" if config["png"] else "",
        palette=config["palette"],
        max_rows=config["max_plot_rows"],
        code=CODE,
    log:
        f"{OUT}/logs/analyse.log",
    threads: 4  # fits run in parallel worker processes; Snakemake caps threads at --cores
    resources:
        mem_mb=2000,
        runtime=20,
    shell:
        "{params.metacalc} analyse {output.dataset:q} --sheets {params.sheets:q} --plan {params.plan:q}"
        " --outdir {params.outdir:q} --history {params.history:q} --level {params.level} --method {params.method}"
        " --measure {params.measure} --tau2 {params.tau2} {params.knha} --jobs {threads}"
        " --figures {output.figures:q} --palette {params.palette} --max-rows {params.max_rows} {params.png}"
        " > {log:q} 2>&1 || {{ cat {log:q} >&2; exit 1; }}"
