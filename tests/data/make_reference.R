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
