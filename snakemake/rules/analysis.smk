rule analyse:
    """Run the analysis plan: pooled numbers with provenance, the PRISMA check and the ledger of unused rows."""
    input:
        dataset=rules.validate.output[0],
        plan=PLAN,
    output:
        results=f"{OUT}/tables/results.json",
        excluded=f"{OUT}/tables/excluded_rows.csv",
        tables=expand(f"{OUT}/tables/{{analysis}}.csv", analysis=ANALYSES),
    params:
        metacalc=METACALC,
        plan=lambda wildcards: config["analyses"],
        outdir=lambda wildcards, output: os.path.dirname(output.results),
        history=f"{OUT}/.history/results.json",
        level=config["level"],
        method=config["method"],
        measure=config["measure"],
        tau2=config["tau2_method"],
        knha="--knha" if config["knha"] else "",
        code=CODE,
    log:
        f"{OUT}/logs/analyse.log",
    threads: 4  # fits run in parallel worker processes; Snakemake caps threads at --cores
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "{params.metacalc} analyse {input.dataset:q} --plan {params.plan:q} --outdir {params.outdir:q}"
        " --history {params.history:q} --level {params.level} --method {params.method}"
        " --measure {params.measure} --tau2 {params.tau2} {params.knha} --jobs {threads} > {log:q} 2>&1 || {{ cat {log:q} >&2; exit 1; }}"
