# metafor side of benchmarks/meta_engine.py (run by it; not meant to be called by hand).
#
#   Rscript benchmarks/meta_engine.R TASK INPUT.csv OUTPUT.csv N_DATASETS
#
# TASK is "reml" (rma(measure="PLO", method="REML") per dataset) or "glmm" (rma.glmm(measure="PLO")).
# INPUT has columns dataset, events, totals (one row per study). The first N_DATASETS datasets are fitted.
# After one untimed warm-up fit, prints "fit_seconds <elapsed>" measured with proc.time() around the fitting loop only, and writes one row
# per dataset (dataset, estimate, se, tau2, error) to OUTPUT.
args <- commandArgs(trailingOnly = TRUE)
task <- args[1]
input <- args[2]
output <- args[3]
n_datasets <- as.integer(args[4])
suppressPackageStartupMessages(library(metafor))
d <- read.csv(input)
ids <- sort(unique(d$dataset))[seq_len(n_datasets)]
groups <- split(d[d$dataset %in% ids, ], d$dataset[d$dataset %in% ids])
fit <- function(g) {
  res <- tryCatch(suppressWarnings(
    if (task == "reml") rma(measure = "PLO", xi = g$events, ni = g$totals, method = "REML")
    else rma.glmm(measure = "PLO", xi = g$events, ni = g$totals)
  ), error = function(e) NULL)
  if (is.null(res)) c(NA, NA, NA) else c(res$beta[1], res$se, res$tau2)
}
invisible(fit(groups[[1]]))  # warm-up: loads lme4 and byte-compiles, as the Python side warms up
start <- proc.time()
out <- lapply(groups, fit)
elapsed <- (proc.time() - start)[["elapsed"]]
m <- do.call(rbind, out)
write.csv(data.frame(dataset = as.integer(names(groups)), estimate = m[, 1], se = m[, 2], tau2 = m[, 3]),
          output, row.names = FALSE)
cat(sprintf("fit_seconds %.6f\n", elapsed))
