rule analyse:
    """Validate the review (its review file, the extraction sheets, every quote against its source document:
    the typed dataset with derived values), run the analysis plan (pooled numbers with provenance, the PRISMA
    check, the ledger of unused rows) and draw the figures (forest plots, overview, time to onset, PRISMA flow,
    risk of bias). One job, so that Python and the scientific stack start once: on a review of case reports,
    starting them costs more than the work.

    Every file it writes is declared: tables/ and figures/ are whole directories (their files depend on the
    plan and the data), so a failed or killed job leaves none of them behind. The report of the previous run
    (with its provenance.csv, patients.csv, reports.csv and manuscript tables) is removed first: from here on it
    no longer describes the inputs. The change log
    compares with the latest named version of the review (releases/NAME/release.json, written by `metacalc
    release`, committed with the review): an input, so a new release reruns this step, and never written by the
    workflow, so a trial run or a killed one cannot move the baseline."""
    input:
        review=REVIEW,
        sheets=SHEETS,
        sources=SOURCES,
        plan=PLAN,
        releases=RELEASES,
    output:
        dataset=f"{OUT}/dataset.json",
        tables=directory(f"{OUT}/tables"),
        figures=directory(f"{OUT}/figures"),
    message:
        "validate the sheets, run the analysis plan, draw the figures"
    params:
        metacalc=METACALC,
        review=lambda wildcards: config["review"],
        sheets=lambda wildcards: config["sheets"],
        sources=lambda wildcards: config["sources"],
        plan=lambda wildcards: config["analyses"],
        report=f"{OUT}/index.html",
        provenance=f"{OUT}/provenance.csv",
        manuscript_tables=f"{OUT}/manuscript_tables",
        listings=[f"{OUT}/patients.csv", f"{OUT}/reports.csv"],
        releases=lambda wildcards: config["releases"],
        level=config["level"],
        method=config["method"],
        measure=config["measure"],
        tau2=config["tau2_method"],
        knha="--knha" if config["knha"] else "",
        strict="--strict" if config["strict"] else "",
        formats=",".join(config["figure_formats"]),
        dpi=config["figure_dpi"],
        width=config["figure_width"],
        palette=config["palette"],
        max_rows=config["max_plot_rows"],
        code=CODE,
    log:
        f"{OUT}/logs/analyse.log",
    threads: 4  # fits run in parallel worker processes; Snakemake caps threads at --cores
    resources:
        mem_mb=memory_mb("analyse"),
        runtime=20,
    shell:
        "rm -rf {params.report:q} {params.provenance:q} {params.listings:q} {params.manuscript_tables:q}"
        " && {params.metacalc} analyse {output.dataset:q} --sheets {params.sheets:q} --review {params.review:q}"
        " --sources {params.sources:q} --plan {params.plan:q}"
        " --outdir {output.tables:q} --releases {params.releases:q} --level {params.level} --method {params.method}"
        " --measure {params.measure} --tau2 {params.tau2} {params.knha} {params.strict} --jobs {threads}"
        " --figures {output.figures:q} --palette {params.palette} --max-rows {params.max_rows}"
        " --formats {params.formats} --dpi {params.dpi} --width {params.width}"
        " > {log:q} 2>&1"
