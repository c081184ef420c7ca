# Reference numbers from R's survival package for tests/test_survival_reference.py.
# Run from the repository root:  Rscript tests/data/make_reference.R
# Needs: r-base-core r-cran-survival (Debian). Tests read only the files written here, never R itself.
suppressMessages(library(survival))
out <- "tests/data/r_reference"
dir.create(out, showWarnings = FALSE)
options(digits = 15)

telco_path <- "../shared/data/telco/telco_customer_churn.csv"
rossi <- read.csv("tests/data/rossi.csv")
rossi$prio_band <- ifelse(rossi$prio == 0, "0", ifelse(rossi$prio <= 2, "1-2", "3+"))
waltons <- read.csv("tests/data/waltons.csv")
heart_df <- survival::heart
heart_df$transplant <- as.character(heart_df$transplant)
write.csv(heart_df, "tests/data/heart.csv", row.names = FALSE)

# Log-rank with the hypergeometric variance on (start, stop] risk sets; equals survdiff without entry.
logrank_manual <- function(start, stop, event, group) {
  lev <- sort(unique(group)); k <- length(lev)
  times <- sort(unique(stop[event == 1]))
  U <- rep(0, k); V <- matrix(0, k, k)
  for (t in times) {
    atrisk <- start < t & stop >= t
    n <- sum(atrisk); d <- sum(event == 1 & stop == t)
    nj <- sapply(lev, function(g) sum(atrisk & group == g))
    dj <- sapply(lev, function(g) sum(event == 1 & stop == t & group == g))
    U <- U + dj - nj * d / n
    if (n > 1) {
      f <- d * (n - d) / (n - 1)
      V <- V + f * (diag(nj / n) - outer(nj, nj) / n^2)
    }
  }
  idx <- 1:(k - 1)
  stat <- as.numeric(t(U[idx]) %*% solve(V[idx, idx, drop = FALSE]) %*% U[idx])
  c(statistic = stat, df = k - 1, p = pchisq(stat, k - 1, lower.tail = FALSE))
}

km_dump <- function(name, fit, tau) {
  strata <- if (is.null(fit$strata)) rep("all", length(fit$time)) else
    rep(sub(".*=", "", names(fit$strata)), fit$strata)
  write.csv(data.frame(segment = strata, time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
                       n_censor = fit$n.censor, surv = fit$surv, std_err = fit$std.err,
                       lower = fit$lower, upper = fit$upper),
            file.path(out, paste0(name, "_km.csv")), row.names = FALSE)
  tab <- summary(fit, rmean = tau)$table
  if (is.null(dim(tab))) tab <- t(as.matrix(tab))
  seg <- if (is.null(fit$strata)) "all" else sub(".*=", "", rownames(tab))
  write.csv(data.frame(segment = seg, median = tab[, "median"], lower = tab[, "0.95LCL"],
                       upper = tab[, "0.95UCL"], rmean = tab[, "rmean"], se_rmean = tab[, "se(rmean)"],
                       tau = tau),
            file.path(out, paste0(name, "_summary.csv")), row.names = FALSE)
}

tests_dump <- function(name, start, stop, event, group, use_survdiff = TRUE) {
  lev <- sort(unique(group))
  rows <- list()
  overall <- logrank_manual(start, stop, event, group)
  if (use_survdiff) {
    sd <- survdiff(Surv(stop, event) ~ group)
    overall <- c(statistic = sd$chisq, df = length(sd$n) - 1,
                 p = pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE))
  }
  rows[[1]] <- data.frame(segment_a = "ALL", segment_b = "ALL", statistic = overall[["statistic"]],
                          df = overall[["df"]], p = overall[["p"]])
  pairs <- combn(lev, 2)
  for (i in seq_len(ncol(pairs))) {
    keep <- group %in% pairs[, i]
    r <- if (use_survdiff) {
      sd <- survdiff(Surv(stop[keep], event[keep]) ~ group[keep])
      c(statistic = sd$chisq, df = 1, p = pchisq(sd$chisq, 1, lower.tail = FALSE))
    } else logrank_manual(start[keep], stop[keep], event[keep], group[keep])
    rows[[i + 1]] <- data.frame(segment_a = pairs[1, i], segment_b = pairs[2, i],
                                statistic = r[["statistic"]], df = 1, p = r[["p"]])
  }
  res <- do.call(rbind, rows)
  res$p_holm <- NA
  res$p_holm[-1] <- p.adjust(res$p[-1], method = "holm")
  write.csv(res, file.path(out, paste0(name, "_logrank.csv")), row.names = FALSE)
}

cox_dump <- function(name, fit) {
  s <- summary(fit, conf.int = 0.95)
  co <- s$coefficients; ci <- s$conf.int
  write.csv(data.frame(term = rownames(co), coef = co[, "coef"], se = co[, "se(coef)"],
                       hazard_ratio = co[, "exp(coef)"], lower = ci[, "lower .95"], upper = ci[, "upper .95"],
                       p_value = co[, "Pr(>|z|)"], loglik = fit$loglik[2], concordance = fit$concordance[["concordance"]]),
            file.path(out, paste0(name, "_cox.csv")), row.names = FALSE)
}

# rossi: weeks to re-arrest
km_dump("rossi_fin", survfit(Surv(week, arrest) ~ fin, data = rossi, conf.type = "log-log"), 40)
km_dump("rossi_prio", survfit(Surv(week, arrest) ~ prio_band, data = rossi, conf.type = "log-log"), 52)
tests_dump("rossi_prio", rep(0, nrow(rossi)), rossi$week, rossi$arrest, rossi$prio_band)
stopifnot(abs(logrank_manual(rep(0, nrow(rossi)), rossi$week, rossi$arrest, rossi$prio_band)[["statistic"]] -
              survdiff(Surv(week, arrest) ~ prio_band, data = rossi)$chisq) < 1e-9)
cox_dump("rossi", coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = rossi,
                        ties = "efron"))
cox_dump("rossi_cat", coxph(Surv(week, arrest) ~ prio_band + factor(fin) + factor(wexp), data = rossi,
                            ties = "efron"))

# waltons: days to death of flies by group
km_dump("waltons", survfit(Surv(T, E) ~ group, data = waltons, conf.type = "log-log"), 60)
tests_dump("waltons", rep(0, nrow(waltons)), waltons$T, waltons$E, waltons$group)
cox_dump("waltons", coxph(Surv(T, E) ~ group, data = waltons, ties = "efron"))

# heart (Stanford heart transplant, counting-process rows): delayed entry
km_dump("heart", survfit(Surv(start, stop, event) ~ transplant, data = heart_df, conf.type = "log-log"), 500)
tests_dump("heart", heart_df$start, heart_df$stop, heart_df$event, heart_df$transplant, use_survdiff = FALSE)
cox_dump("heart", coxph(Surv(start, stop, event) ~ age + surgery + transplant, data = heart_df, ties = "efron"))

# Telco snapshot: tenure clock, satisfaction score 1-5 and its bands
if (file.exists(telco_path)) {
  telco <- read.csv(telco_path, check.names = FALSE, na.strings = "")
  telco$time <- telco[["Tenure in Months"]]; telco$event <- telco[["Churn Value"]]
  telco$score <- as.character(telco[["Satisfaction Score"]])
  telco$band <- ifelse(telco[["Satisfaction Score"]] <= 2, "dissatisfied",
                       ifelse(telco[["Satisfaction Score"]] == 3, "neutral", "satisfied"))
  telco$contract <- telco[["Contract"]]
  km_dump("telco_score", survfit(Surv(time, event) ~ score, data = telco, conf.type = "log-log"), 72)
  km_dump("telco_band", survfit(Surv(time, event) ~ band, data = telco, conf.type = "log-log"), 72)
  tests_dump("telco_band", rep(0, nrow(telco)), telco$time, telco$event, telco$band)
  # satisfied customers have no events: their coefficient is not estimable, so R's fit is made without them
  # churn reasons as competing risks: Aalen-Johansen cumulative incidence per band
  telco$cause <- factor(ifelse(telco$event == 1, telco[["Churn Category"]], "censor"),
                        levels = c("censor", sort(unique(telco[["Churn Category"]][telco$event == 1]))))
  aj <- survfit(Surv(time, cause) ~ band, data = telco)
  strata <- rep(sub(".*=", "", names(aj$strata)), aj$strata)
  states <- aj$states
  cif <- do.call(rbind, lapply(seq_along(states)[-which(states == "(s0)")], function(j)
    data.frame(segment = strata, time = aj$time, cause = states[j], incidence = aj$pstate[, j],
               std_err = aj$std.err[, j])))
  write.csv(cif, file.path(out, "telco_band_cif.csv"), row.names = FALSE)
  cox_dump("telco_estimable", coxph(Surv(time, event) ~ band + contract,
                                    data = telco[telco$band != "satisfied", ], ties = "efron"))
}
cat("written to", out, "\n")

# ---------------------------------------------------------------- parity 2: data sets new to the kit
# veteran (lung cancer trial), lung (NCCTG, status coded 1/2), mgus2 (competing risks: PCM or death)
write.csv(survival::veteran, "tests/data/veteran.csv", row.names = FALSE)
lung_df <- survival::lung
write.csv(lung_df, "tests/data/lung.csv", row.names = FALSE)
mgus_df <- survival::mgus2
write.csv(mgus_df, "tests/data/mgus2.csv", row.names = FALSE)

# cox.zph as survival before 3.0 computed it (transform "km": 1 minus the left-continuous KM, KM(t-)),
# with one test per term (a term of several columns: the same quadratic form on its block)
zph_old <- function(fit, terms) {
  sresid <- resid(fit, "schoenfeld")
  if (is.null(dim(sresid))) sresid <- matrix(sresid, ncol = 1)
  ndead <- nrow(sresid)
  times <- as.numeric(rownames(sresid))
  y <- fit$y
  km_fit <- survfit(y ~ 1)
  t1 <- km_fit$surv[km_fit$n.event > 0]; t2 <- km_fit$n.event[km_fit$n.event > 0]
  km <- rep(c(1, t1), c(t2, 0))
  if (!is.null(attr(sresid, "strata"))) km <- km[sort.list(sort.list(times))]  # by stratum, then time
  xx <- (1 - km) - mean(1 - km)
  v <- fit$var
  u <- c(xx %*% sresid)
  vu <- c(v %*% u)
  rows <- lapply(names(terms), function(term) {
    idx <- terms[[term]]
    stat <- ndead * as.numeric(t(vu[idx]) %*% solve(v[idx, idx, drop = FALSE]) %*% vu[idx]) / sum(xx^2)
    data.frame(covariate = term, statistic = stat, dof = length(idx),
               p_value = pchisq(stat, length(idx), lower.tail = FALSE))
  })
  glob <- c(u %*% v %*% u) * ndead / sum(xx^2)
  rbind(do.call(rbind, rows), data.frame(covariate = "GLOBAL", statistic = glob, dof = length(u),
                                         p_value = pchisq(glob, length(u), lower.tail = FALSE)))
}
zph_dump <- function(name, fit, terms) {
  write.csv(zph_old(fit, terms), file.path(out, paste0(name, "_zph.csv")), row.names = FALSE)
  z3 <- cox.zph(fit, transform = "km")$table  # R 3.x: a score test, stated for the record
  write.csv(data.frame(covariate = rownames(z3), statistic = z3[, "chisq"], dof = z3[, "df"], p_value = z3[, "p"]),
            file.path(out, paste0(name, "_zph3.csv")), row.names = FALSE)
}

vet <- survival::veteran
vet$celltype <- as.character(vet$celltype)
vet_fit <- coxph(Surv(time, status) ~ trt + celltype + karno + diagtime + age + prior, data = vet, ties = "efron")
cox_dump("veteran", vet_fit)
zph_dump("veteran", vet_fit, list(trt = 1, celltype = 2:4, karno = 5, diagtime = 6, age = 7, prior = 8))
# a constant column: R leaves its coefficient NA and fits the others as without it
vet$site <- 1
stopifnot(is.na(coef(coxph(Surv(time, status) ~ karno + site + age, data = vet))[["site"]]))
cox_dump("veteran_nosite", coxph(Surv(time, status) ~ karno + age, data = vet, ties = "efron"))

mg <- mgus_df[!is.na(mgus_df$hgb), ]
mg_fit <- coxph(Surv(futime, death) ~ sex + age + hgb, data = mg, ties = "efron")
cox_dump("mgus2", mg_fit)
zph_dump("mgus2", mg_fit, list(sex = 1, age = 2, hgb = 3))

# lung: R codes status 1 = censored, 2 = dead; the kit must refuse it. Recoded 0/1, R's fit:
lung_cc <- lung_df[!is.na(lung_df$ph.ecog), ]
lung_cc$dead <- lung_cc$status - 1
lung_cc$sex <- as.character(lung_cc$sex)
cox_dump("lung", coxph(Surv(time, dead) ~ sex + age + ph.ecog, data = lung_cc, ties = "efron"))

# at risk at chosen times under delayed entry, as summary(survfit, times=) reports it
hs <- summary(survfit(Surv(start, stop, event) ~ 1, data = heart_df), times = c(0.5, 10, 30.2, 100, 365, 1000))
write.csv(data.frame(time = hs$time, n_risk = hs$n.risk, surv = hs$surv),
          file.path(out, "heart_at_risk.csv"), row.names = FALSE)

# churn reasons with intervals: multi-state survfit on mgus2 (PCM before death, or death), by sex
mg2 <- mgus_df
mg2$etime <- with(mg2, ifelse(pstat == 0, futime, ptime))
mg2$cause <- factor(with(mg2, ifelse(pstat == 0, 2 * death, 1)), 0:2, labels = c("censor", "pcm", "death"))
aj <- survfit(Surv(etime, cause) ~ sex, data = mg2)
strata <- rep(sub(".*=", "", names(aj$strata)), aj$strata)
cif <- do.call(rbind, lapply(which(aj$states != "(s0)"), function(j)
  data.frame(segment = strata, time = aj$time, cause = aj$states[j], incidence = aj$pstate[, j],
             std_err = aj$std.err[, j], lower = aj$lower[, j], upper = aj$upper[, j])))
write.csv(cif, file.path(out, "mgus2_cif.csv"), row.names = FALSE)

# stratified Cox and predicted survival for given covariates (survfit on a coxph fit with newdata)
st_fit <- coxph(Surv(time, status) ~ karno + age + strata(trt), data = vet, ties = "efron")
cox_dump("veteran_strata", st_fit)
zph_dump("veteran_strata", st_fit, list(karno = 1, age = 2))
pred <- survfit(st_fit, newdata = data.frame(karno = 60, age = 60))
pst <- rep(sub(".*=", "", names(pred$strata)), pred$strata)
write.csv(data.frame(stratum = pst, time = pred$time, surv = pred$surv, std_err = pred$std.err,
                     lower = pred$lower, upper = pred$upper),
          file.path(out, "veteran_strata_predict.csv"), row.names = FALSE)
lung_fit <- coxph(Surv(time, dead) ~ sex + age + ph.ecog, data = lung_cc, ties = "efron")
pl <- survfit(lung_fit, newdata = data.frame(sex = c("1", "2"), age = c(60, 70), ph.ecog = c(1, 0)))
write.csv(data.frame(time = pl$time, surv_1 = pl$surv[, 1], surv_2 = pl$surv[, 2]),
          file.path(out, "lung_predict.csv"), row.names = FALSE)
cat("parity 2 written to", out, "\n")

# at risk under delayed entry where entries fall between exits: mgus2 on the age scale
# (times just before a whole age: customers entering at that age join the risk set of the next exit time;
# timefix = FALSE so that R, like the kit, never merges exit times that differ in the last bits)
mg_age <- data.frame(entry = mgus_df$age, exit = round(mgus_df$age + mgus_df$futime / 12, 6), death = mgus_df$death)
write.csv(mg_age, "tests/data/mgus2_age.csv", row.names = FALSE)
ms <- summary(survfit(Surv(entry, exit, death) ~ 1, data = mg_age, timefix = FALSE),
              times = c(50.05, 59.999, 60.31, 69.9999, 70.07, 79.999, 80.55, 90.21))
write.csv(data.frame(time = ms$time, n_risk = ms$n.risk, surv = ms$surv),
          file.path(out, "mgus2_age_at_risk.csv"), row.names = FALSE)

# churn reasons under delayed entry: mgus2 on the age scale (entry at diagnosis), PCM or death
mg_age2 <- data.frame(id = seq_len(nrow(mgus_df)), entry = mgus_df$age,
                      exit = round(mgus_df$age + ifelse(mgus_df$pstat == 0, mgus_df$futime, mgus_df$ptime) / 12, 6),
                      cause = factor(with(mgus_df, ifelse(pstat == 0, 2 * death, 1)), 0:2,
                                     labels = c("censor", "pcm", "death")))
mg_age2 <- mg_age2[mg_age2$exit > mg_age2$entry, ]
write.csv(mg_age2, "tests/data/mgus2_age_cif.csv", row.names = FALSE)
aj2 <- survfit(Surv(entry, exit, cause) ~ 1, data = mg_age2, id = id, timefix = FALSE)
cif2 <- do.call(rbind, lapply(which(aj2$states != "(s0)"), function(j)
  data.frame(time = aj2$time, cause = aj2$states[j], incidence = aj2$pstate[, j], std_err = aj2$std.err[, j])))
write.csv(cif2, file.path(out, "mgus2_age_cif.csv"), row.names = FALSE)
