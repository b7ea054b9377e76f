rule validate:
    """Check the extraction sheets and write the typed dataset with derived values."""
    input:
        SHEETS,
    output:
        f"{OUT}/dataset.json",
    params:
        metacalc=METACALC,
        sheets=lambda wildcards: config["sheets"],
        code=CODE,
    log:
        f"{OUT}/logs/validate.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "{params.metacalc} validate {params.sheets:q} --output {output:q} > {log:q} 2>&1 || {{ cat {log:q} >&2; exit 1; }}"
