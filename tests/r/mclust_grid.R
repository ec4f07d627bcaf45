suppressPackageStartupMessages(library(mclust))
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]; wine <- read.csv(args[2])
data(diabetes); data(banknote); data(thyroid)
sets <- list(iris = iris[, 1:4], faithful = faithful, diabetes = diabetes[, 2:4],
             banknote = banknote[, 2:7], thyroid = thyroid[, 2:6], wine = wine)
rows <- list()
for (name in names(sets)) for (std in c(FALSE, TRUE)) {
  X <- as.matrix(sets[[name]]); if (std) X <- scale(X)
  write.csv(X, file.path(out, paste0(name, if (std) "_std" else "", ".csv")), row.names = FALSE)
  v <- apply(X, 2, function(c) mean((c - mean(c))^2))
  for (m in c("EEI", "VVI", "EEE", "VVV")) for (g in 1:4) {
    fit <- tryCatch(Mclust(X, G = g, modelNames = m, verbose = FALSE), error = function(e) NULL)
    if (is.null(fit)) { ll <- NA; nk <- NA; ev <- NA } else {
      ll <- fit$loglik; nk <- min(colSums(fit$z))
      S <- fit$parameters$variance$sigma; d <- ncol(X)
      ev <- min(sapply(seq_len(dim(S)[3]), function(k) min(eigen(S[, , k] / sqrt(outer(v, v)), symmetric = TRUE, only.values = TRUE)$values)))
    }
    rows[[length(rows) + 1]] <- data.frame(data = paste0(name, if (std) "_std" else ""), model = m, G = g, loglik = ll, min_size = nk, min_eig = ev)
  }
}
write.csv(do.call(rbind, rows), file.path(out, "mclust.csv"), row.names = FALSE)
