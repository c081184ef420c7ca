# Reference numbers from R's survival package for tests/test_parity3.py (statistics parity 3).
# Run from the repository root:  Rscript tests/data/make_reference_parity3.R
# Needs: r-base-core r-cran-survival (Debian). Tests read only the files written here, never R itself.
# Data sets new to the kit, all shipped with R's survival: colon (deaths), pbc (the 312 trial patients),
# cgd (counting-process rows: delayed entry), kidney (stratified), flchain (competing causes of death,
# and the age scale), ovarian.
suppressMessages(library(survival))
out <- "tests/data/r_reference"
dir.create(out, showWarnings = FALSE)
options(digits = 15)
wr <- function(df, name) write.csv(df, file.path(out, paste0(name, ".csv")), row.names = FALSE)

# ------------------------------------------------------------------------------------------- the data
colon_d <- subset(survival::colon, etype == 2 & !is.na(nodes))[, c("time", "status", "rx", "sex", "age",
                                                                   "obstruct", "nodes")]
colon_d$rx <- as.character(colon_d$rx)
write.csv(colon_d, "tests/data/colon_deaths.csv", row.names = FALSE)
pbc_d <- subset(survival::pbc, !is.na(trt))[, c("time", "status", "trt", "age", "sex", "edema", "bili")]
pbc_d$dead <- as.integer(pbc_d$status == 2)
pbc_d$log_bili <- log(pbc_d$bili)
pbc_d$sex <- as.character(pbc_d$sex)
write.csv(pbc_d, "tests/data/pbc.csv", row.names = FALSE)
cgd_d <- survival::cgd[, c("id", "tstart", "tstop", "status", "treat", "sex", "age", "inherit", "steroids")]
for (v in c("treat", "sex", "inherit")) cgd_d[[v]] <- as.character(cgd_d[[v]])
write.csv(cgd_d, "tests/data/cgd.csv", row.names = FALSE)
kidney_d <- survival::kidney[, c("id", "time", "status", "age", "sex", "disease")]
kidney_d$disease <- as.character(kidney_d$disease)
write.csv(kidney_d, "tests/data/kidney.csv", row.names = FALSE)
fl <- survival::flchain[, c("age", "sex", "futime", "death", "chapter")]
fl$sex <- as.character(fl$sex)
fl$cause <- ifelse(fl$death == 0, NA, ifelse(fl$chapter %in% "Circulatory", "circulatory",
                                             ifelse(fl$chapter %in% "Neoplasms", "neoplasms", "other")))
fl$chapter <- NULL
write.csv(fl, "tests/data/flchain.csv", row.names = FALSE)
write.csv(survival::ovarian, "tests/data/ovarian.csv", row.names = FALSE)

# ------------------------------------------------------------------------------------------ Cox fits
# every number of summary(coxph): coefficients, the three global tests (unrounded: summary rounds the Wald
# and score statistics to 2 decimals), concordance with its standard error
cox_dump <- function(name, fit) {
  s <- summary(fit, conf.int = 0.95)
  co <- s$coefficients; ci <- s$conf.int
  wr(data.frame(term = rownames(co), coef = co[, "coef"], se = co[, "se(coef)"], hazard_ratio = co[, "exp(coef)"],
                lower = ci[, "lower .95"], upper = ci[, "upper .95"], p_value = co[, "Pr(>|z|)"],
                loglik = fit$loglik[2], loglik_null = fit$loglik[1],
                lr = 2 * diff(fit$loglik), lr_df = s$logtest[["df"]], lr_p = pchisq(2 * diff(fit$loglik), s$logtest[["df"]], lower.tail = FALSE),
                wald = fit$wald.test, wald_p = pchisq(fit$wald.test, s$waldtest[["df"]], lower.tail = FALSE),
                score = fit$score, score_p = pchisq(fit$score, s$sctest[["df"]], lower.tail = FALSE),
                concordance = fit$concordance[["concordance"]], concordance_se = fit$concordance[["std"]],
                mean = fit$means),
     paste0(name, "_cox"))
}
# survfit(fit): the baseline curve, at R's centre (0/1 columns at 0, others at their mean)
curve_dump <- function(name, sf) {
  st <- if (is.null(sf$strata)) rep("all", length(sf$time)) else rep(sub(".*=", "", names(sf$strata)), sf$strata)
  surv <- as.matrix(sf$surv); se <- as.matrix(sf$std.err); lo <- as.matrix(sf$lower); up <- as.matrix(sf$upper)
  ch <- as.matrix(sf$cumhaz)
  wr(do.call(rbind, lapply(seq_len(ncol(surv)), function(j)
    data.frame(row = j - 1, stratum = st, time = sf$time, n_event = sf$n.event, cumulative_hazard = ch[, j],
               survival = surv[, j], se = se[, j], lower = lo[, j], upper = up[, j]))), name)
}
# cox.zph as R 3.x runs it by default (score test, transform "km"), one row per term and GLOBAL
zph_dump <- function(name, fit) {
  z <- cox.zph(fit)$table
  wr(data.frame(covariate = rownames(z), statistic = z[, "chisq"], dof = z[, "df"], p_value = z[, "p"]),
     paste0(name, "_zph3"))
}

colon_fit <- coxph(Surv(time, status) ~ rx + sex + age + obstruct + nodes, data = colon_d)
cox_dump("colon", colon_fit); zph_dump("colon", colon_fit)
curve_dump("colon_baseline", survfit(colon_fit))
curve_dump("colon_predict", survfit(colon_fit, newdata = data.frame(rx = c("Obs", "Lev+5FU"), sex = c(0, 1),
                                                                    age = c(50, 70), obstruct = c(1, 0),
                                                                    nodes = c(2, 8))))
colon_b <- coxph(Surv(time, status) ~ rx + sex + age + obstruct + nodes, data = colon_d, ties = "breslow")
cox_dump("colon_breslow", colon_b); zph_dump("colon_breslow", colon_b)
curve_dump("colon_breslow_baseline", survfit(colon_b))

pbc_fit <- coxph(Surv(time, dead) ~ trt + age + sex + edema + log_bili, data = pbc_d)
cox_dump("pbc", pbc_fit); zph_dump("pbc", pbc_fit)
curve_dump("pbc_baseline", survfit(pbc_fit))
curve_dump("pbc_predict", survfit(pbc_fit, newdata = data.frame(trt = c(1, 2), age = c(45, 60), sex = c("f", "m"),
                                                                edema = c(0, 0.5), log_bili = c(0, 1.5))))
pbc_b <- coxph(Surv(time, dead) ~ trt + age + sex + edema + log_bili, data = pbc_d, ties = "breslow")
cox_dump("pbc_breslow", pbc_b)

cgd_fit <- coxph(Surv(tstart, tstop, status) ~ treat + sex + age + inherit + steroids, data = cgd_d)
cox_dump("cgd", cgd_fit); zph_dump("cgd", cgd_fit)
curve_dump("cgd_baseline", survfit(cgd_fit))

kidney_fit <- coxph(Surv(time, status) ~ age + disease + strata(sex), data = kidney_d)
cox_dump("kidney", kidney_fit); zph_dump("kidney", kidney_fit)
curve_dump("kidney_baseline", survfit(kidney_fit))
kidney_b <- coxph(Surv(time, status) ~ age + disease + strata(sex), data = kidney_d, ties = "breslow")
cox_dump("kidney_breslow", kidney_b); zph_dump("kidney_breslow", kidney_b)

ovarian_fit <- coxph(Surv(futime, fustat) ~ age + resid.ds + rx + ecog.ps, data = ovarian)
cox_dump("ovarian", ovarian_fit); zph_dump("ovarian", ovarian_fit)
curve_dump("ovarian_baseline", survfit(ovarian_fit))  # no column only 0/1: every column at its mean

# -------------------------------------------------- S(t), its standard error and limits at chosen times
at_dump <- function(name, fit, times) {
  s <- summary(fit, times = times)
  st <- if (is.null(s$strata)) rep("all", length(s$time)) else sub(".*=", "", as.character(s$strata))
  wr(data.frame(segment = st, time = s$time, n_risk = s$n.risk, surv = s$surv, se = s$std.err,
                lower = s$lower, upper = s$upper), name)
}
at_dump("colon_at", survfit(Surv(time, status) ~ rx, data = colon_d, conf.type = "log-log"),
        c(0, 1, 180, 365.25, 730.5, 1000, 1826.25, 2500, 3000))
# delayed entry: cgd's (tstart, tstop] rows by treatment, at times between exits
at_dump("cgd_at", survfit(Surv(tstart, tstop, status) ~ treat, data = cgd_d, conf.type = "log-log"),
        c(1.5, 30, 100.5, 200, 250.5, 300, 365, 400))
# flchain on the age scale (entry at the age of the sample, whole years): entries fall between exits.
# timefix = FALSE so that R, like the kit, never merges exit times that differ in the last bits
fl_age <- subset(data.frame(entry = fl$age, exit = round(fl$age + fl$futime / 365.25, 6), death = fl$death,
                            sex = fl$sex), exit > entry)
write.csv(fl_age, "tests/data/flchain_age.csv", row.names = FALSE)
s_age <- survfit(Surv(entry, exit, death) ~ sex, data = fl_age, timefix = FALSE, conf.type = "log-log")
at_dump("flchain_age_at", s_age, c(55.5, 59.999, 64.9999, 70.01, 74.999, 80.4, 89.999, 95.2))

# ------------------------------------------------ competing causes of death: incidence and event-free state
fl_cr <- fl
fl_cr$state <- factor(ifelse(is.na(fl_cr$cause), "censor", fl_cr$cause),
                      c("censor", "circulatory", "neoplasms", "other"))
aj <- survfit(Surv(futime, state) ~ sex, data = fl_cr)
strata <- rep(sub(".*=", "", names(aj$strata)), aj$strata)
wr(do.call(rbind, lapply(seq_along(aj$states), function(j)
  data.frame(segment = strata, time = aj$time, state = aj$states[j], p = aj$pstate[, j],
             std_err = aj$std.err[, j], lower = aj$lower[, j], upper = aj$upper[, j]))), "flchain_cif")
cat("parity 3 written to", out, "\n")

# pbc: transplant or death as competing risks, by treatment; the curves and summary(times=), before and after
# each arm's first exit
pbc_cr <- pbc_d
pbc_cr$state <- factor(pbc_cr$status, 0:2, c("censor", "transplant", "death"))
aj <- survfit(Surv(time, state) ~ trt, data = pbc_cr)
strata <- rep(sub(".*=", "", names(aj$strata)), aj$strata)
wr(do.call(rbind, lapply(seq_along(aj$states), function(j)
  data.frame(segment = strata, time = aj$time, state = aj$states[j], p = aj$pstate[, j],
             std_err = aj$std.err[, j], lower = aj$lower[, j], upper = aj$upper[, j]))), "pbc_cif")
s <- summary(aj, times = c(10, 400, 1000, 2000, 4000))
st <- sub(".*=", "", as.character(s$strata))
wr(do.call(rbind, lapply(seq_along(aj$states), function(j)
  data.frame(segment = st, time = s$time, state = aj$states[j], p = s$pstate[, j], std_err = s$std.err[, j],
             lower = s$lower[, j], upper = s$upper[, j]))), "pbc_cif_at")
