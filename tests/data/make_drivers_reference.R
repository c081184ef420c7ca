# Reference numbers for the key-driver tests (tests/test_drivers.py), in base R only.
# Run from the repository root:  Rscript tests/data/make_drivers_reference.R
# Johnson's (2000) relative weights, Tonidandel & LeBreton's (2010) logistic weights (glm on the orthogonal
# counterparts, McKelvey-Zavoina R2) and general dominance over every subset with lm(), written independently
# of the kit's code. Tests read only the files written here, never R itself.
out <- "tests/data/r_reference"
options(digits = 15)

johnson <- function(rxx, rxy) {
  e <- eigen(rxx, symmetric = TRUE)
  lam <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors)
  beta <- solve(lam, rxy)
  as.vector((lam^2) %*% (beta^2))
}

# 1. Azen & Budescu (2003) correlation matrix: relative weights.
r <- matrix(c(1.0, 0.6, 0.3, 0.4, 0.5, 0.6, 1.0, 0.8, 0.1, 0.3, 0.3, 0.8, 1.0, 0.1, 0.1,
              0.4, 0.1, 0.1, 1.0, 0.5, 0.5, 0.3, 0.1, 0.5, 1.0), 5, 5, byrow = TRUE)
ab <- data.frame(driver = c("x1", "x2", "x3", "x4"), relative_weight = johnson(r[-1, -1], r[-1, 1]))
write.csv(ab, file.path(out, "drivers_azen_budescu_rw.csv"), row.names = FALSE)

# 2. Answers with drivers: linear and logistic weights, dominance by lm over every subset.
d <- read.csv("tests/data/drivers_answers.csv")
d$plan_Plus <- as.numeric(d$plan == "Plus"); d$plan_Pro <- as.numeric(d$plan == "Pro")
drivers <- list(csat = "csat", complaint_contacts = "complaint_contacts", call_contacts = "call_contacts",
                chat_contacts = "chat_contacts", tenure_months = "tenure_months", plan = c("plan_Plus", "plan_Pro"))
cols <- unlist(drivers)
x <- as.matrix(d[, cols])
rxx <- cor(x); rxy <- cor(x, d$nps)[, 1]
raw <- johnson(rxx, rxy)
lin_rw <- sapply(drivers, function(g) sum(raw[match(g, cols)]))
r2_sub <- function(g) if (length(g) == 0) 0 else summary(lm(d$nps ~ as.matrix(d[, unlist(drivers[g])])))$r.squared
p <- length(drivers); gd <- numeric(p)
subsets <- unlist(lapply(0:p, function(k) combn(p, k, simplify = FALSE)), recursive = FALSE)
r2s <- sapply(subsets, function(s) r2_sub(s))
keyof <- function(s) paste0("k:", paste(sort(s), collapse = ","))
lookup <- setNames(r2s, sapply(subsets, keyof))
for (j in 1:p) {
  by_size <- sapply(0:(p - 1), function(k) {
    others <- setdiff(1:p, j)
    ss <- if (k == 0) list(integer(0)) else combn(others, k, simplify = FALSE)
    if (k == 1 && length(others) == 1) ss <- list(others)
    mean(sapply(ss, function(s) lookup[[keyof(c(s, j))]] - lookup[[keyof(s)]]))
  })
  gd[j] <- mean(by_size)
}
coef_lin <- coef(lm(d$nps ~ x))[-1]

# logistic: outcome on the orthogonal counterparts Z = X_std Rxx^(-1/2)
xs <- scale(x)
e <- eigen(rxx, symmetric = TRUE)
lam <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors)
z <- xs %*% solve(lam)
fit <- glm(d$detractor ~ z, family = binomial)
b <- coef(fit)[-1]
eta <- as.vector(z %*% b)
r2mz <- var(eta) / (var(eta) + pi^2 / 3)
bstd <- b * apply(z, 2, sd) * sqrt(r2mz) / sd(eta)
raw_log <- as.vector((lam^2) %*% (bstd^2))
log_rw <- sapply(drivers, function(g) sum(raw_log[match(g, cols)]))
coef_log <- coef(glm(d$detractor ~ x, family = binomial))[-1]
write.csv(data.frame(driver = names(drivers), linear_rw = lin_rw, linear_dominance = gd, logistic_rw = log_rw),
          file.path(out, "drivers_answers_weights.csv"), row.names = FALSE)
write.csv(data.frame(term = cols, linear_coef = coef_lin, logistic_coef = coef_log),
          file.path(out, "drivers_answers_coef.csv"), row.names = FALSE)
write.csv(data.frame(linear_r2 = summary(lm(d$nps ~ x))$r.squared, logistic_r2_mz = r2mz),
          file.path(out, "drivers_answers_r2.csv"), row.names = FALSE)
