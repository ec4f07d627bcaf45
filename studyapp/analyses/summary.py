"""A stored analysis result as plain text (for the command line and logs)."""

from __future__ import annotations

from typing import Any


def _num(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def text_summary(result: dict[str, Any]) -> str:
    """The fit table, the recommendation, the profiles and the transitions, as a researcher reads them."""
    lines = [
        f"Participants: {result.get('n_participants', 0)}; observations (participant-waves): "
        f"{result.get('n_observations', 0)}; per wave: "
        + ", ".join(f"{wave} {n}" for wave, n in (result.get("per_wave") or {}).items())
    ]
    if result.get("message"):
        return "\n".join([*lines, result["message"]])
    lines += ["", "Model  K   log-lik        BIC      SABIC  entropy  smallest  replicated"]
    for row in result.get("fit", []):
        lines.append(
            f"{row['parameterisation']:<5} {row['n_profiles']:>2} {_num(row['loglik'], 1):>9} "
            f"{_num(row['bic'], 1):>10} "
            f"{_num(row['sabic'], 1):>10} {_num(row['entropy']):>8} {_num(row['smallest_share']):>9} "
            f"{_num(row['replication']):>11}"
        )
    recommended = result.get("recommended") or {}
    lines += [
        "",
        f"Recommended: {recommended.get('k')} profiles ({recommended.get('parameterisation')}). "
        f"{recommended.get('reason', '')}",
    ]
    transitions = result.get("transitions") or {}
    if transitions:
        names = transitions["names"]
        lines += [
            "",
            f"Latent transition model, K = {transitions['k']} ({transitions['measurement']}), "
            f"entropy {_num(transitions['entropy'])}:",
        ]
        for name, similarity, share in zip(names, transitions["similarity"], transitions["initial"], strict=True):
            lines.append(f"  {name:<28} similarity {_num(similarity)}  share at {transitions['waves'][0]} {share:.1%}")
        waves = transitions["waves"]
        for t, matrix in enumerate(transitions["model"]):
            lines += ["", f"Transitions {waves[t]} → {waves[t + 1]} (rows: from; 95% bootstrap interval):"]
            for i, row in enumerate(matrix):
                cells = []
                for j, p in enumerate(row):
                    if transitions.get("ci_low"):
                        low, high = transitions["ci_low"][t][i][j], transitions["ci_high"][t][i][j]
                        cells.append(f"{p:.2f} [{_num(low)}, {_num(high)}]")
                    else:
                        cells.append(f"{p:.2f}")
                lines.append(f"  {names[i][:14]:<14} " + "  ".join(cells))
            if transitions.get("naive"):
                stay_model = sum(matrix[i][i] for i in range(len(matrix))) / len(matrix)
                stay_naive = sum(transitions["naive"][t][i][i] for i in range(len(matrix))) / len(matrix)
                lines.append(f"  mean stability: model {stay_model:.2f}, naive cross-tabulation {stay_naive:.2f}")
        invariance = transitions.get("invariance")
        if invariance:
            lines += [
                "",
                f"Measurement invariance over waves: LR = {_num(invariance['statistic'], 1)}, "
                f"df = {invariance['df']}, p = {_num(invariance['p_value'], 3)}",
            ]
    return "\n".join(lines)
