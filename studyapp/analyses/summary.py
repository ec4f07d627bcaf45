"""A stored analysis result as plain text (for the command line and logs)."""

from __future__ import annotations

from studyapp.analyses.result import AnalysisResult, FitRow


def _spurious(row: FitRow) -> str:
    """What the spurious-solution guard did for a fit-table row."""
    if row.spurious:
        return "only spurious solutions: not considered"
    if row.set_aside_loglik is not None:
        return f"set aside (log-lik {_num(row.set_aside_loglik, 1)})"
    return "-"


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def text_summary(result: AnalysisResult) -> str:
    """The fit table, the recommendation, the profiles and the transitions, as a researcher reads them."""
    lines = [
        f"Participants: {result.n_participants}; observations (participant-waves): "
        f"{result.n_observations}; per wave: " + ", ".join(f"{wave} {n}" for wave, n in result.per_wave.items())
    ]
    if result.message:
        return "\n".join([*lines, result.message])
    lines += ["", "Model  K   log-lik        BIC      SABIC  entropy  smallest  replicated  starts  spurious"]
    for row in result.fit:
        lines.append(
            f"{row.parameterisation:<5} {row.n_profiles:>2} {_num(row.loglik, 1):>9} "
            f"{_num(row.bic, 1):>10} "
            f"{_num(row.sabic, 1):>10} {_num(row.entropy):>8} {_num(row.smallest_share):>9} "
            f"{_num(row.replication):>11} {row.starts if row.starts is not None else '-':>7}  {_spurious(row)}"
        )
    recommended = result.recommended
    lines += [
        "",
        f"Recommended: {recommended.k if recommended else None} profiles "
        f"({recommended.parameterisation if recommended else None}). {recommended.reason if recommended else ''}",
    ]
    transitions = result.transitions
    if transitions is not None:
        names = transitions.names
        lines += [
            "",
            f"Latent transition model, K = {transitions.k} ({transitions.measurement}), "
            f"entropy {_num(transitions.entropy)}:",
        ]
        for name, similarity, share in zip(names, transitions.similarity, transitions.initial, strict=True):
            lines.append(f"  {name:<28} similarity {_num(similarity)}  share at {transitions.waves[0]} {share:.1%}")
        waves = transitions.waves
        for t, matrix in enumerate(transitions.model):
            lines += ["", f"Transitions {waves[t]} → {waves[t + 1]} (rows: from; 95% bootstrap interval):"]
            for i, probabilities in enumerate(matrix):
                cells = []
                for j, p in enumerate(probabilities):
                    if transitions.ci_low and transitions.ci_high:
                        low, high = transitions.ci_low[t][i][j], transitions.ci_high[t][i][j]
                        cells.append(f"{p:.2f} [{_num(low)}, {_num(high)}]")
                    else:
                        cells.append(f"{p:.2f}")
                lines.append(f"  {names[i][:14]:<14} " + "  ".join(cells))
            if transitions.naive:
                naive = transitions.naive[t]
                stay_model = sum(matrix[i][i] for i in range(len(matrix))) / len(matrix)
                stay_naive = [naive[i][i] for i in range(len(matrix))]
                if all(p is not None for p in stay_naive):
                    mean_naive = sum(p for p in stay_naive if p is not None) / len(matrix)
                    lines.append(f"  mean stability: model {stay_model:.2f}, naive cross-tabulation {mean_naive:.2f}")
        invariance = transitions.invariance
        if invariance:
            lines += [
                "",
                f"Measurement invariance over waves: LR = {_num(invariance.statistic, 1)}, "
                f"df = {invariance.df}, p = {_num(invariance.p_value, 3)}",
            ]
    return "\n".join(lines)
