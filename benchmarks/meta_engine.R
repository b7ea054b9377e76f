# metafor side of benchmarks/meta_engine.py (run by it; not meant to be called by hand).
#
#   Rscript benchmarks/meta_engine.R TASK INPUT.csv OUTPUT.csv
#
# TASK is "reml" (rma(measure="PLO", method="REML") + confint() per dataset: the fields metacalc's command line
# writes, estimate, SE, CI, tau^2 with its Q-profile interval, I^2, H^2, Q) or "glmm" (rma.glmm(measure="PLO")).
# INPUT has columns dataset, events, totals (one row per study); every dataset in it is fitted, one by one, as a
# user of metafor would, and one row per dataset is written to OUTPUT (dataset, estimate, se, tau2, tau2_lb,
# tau2_ub; NA where a fit fails).
args <- commandArgs(trailingOnly = TRUE)
task <- args[1]
input <- args[2]
output <- args[3]
suppressPackageStartupMessages(library(metafor))
d <- read.csv(input)
groups <- split(d, d$dataset)
fit <- function(g) {
  res <- tryCatch(suppressWarnings({
    if (task == "reml") {
      r <- rma(measure = "PLO", xi = g$events, ni = g$totals, method = "REML")
      ci <- confint(r)
      c(r$beta[1], r$se, r$tau2, ci$random["tau^2", "ci.lb"], ci$random["tau^2", "ci.ub"])
    } else {
      r <- rma.glmm(measure = "PLO", xi = g$events, ni = g$totals)
      c(r$beta[1], r$se, r$tau2, NA, NA)
    }
  }), error = function(e) rep(NA, 5))
  res
}
m <- do.call(rbind, lapply(groups, fit))
write.csv(data.frame(dataset = as.integer(names(groups)), estimate = m[, 1], se = m[, 2], tau2 = m[, 3],
                     tau2_lb = m[, 4], tau2_ub = m[, 5]), output, row.names = FALSE)
