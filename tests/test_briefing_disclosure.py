"""Figures printed beside the tables must not reveal what the tables hide (issue 16).

Found while making small organisations' briefings complete: an organisation of 12 whose movement table
was fully suppressed still printed "92% of your people who took part in both waves kept the same
profile", i.e. 11 kept it and 1 moved: a group of one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studyapp.briefings.content import SCALES, WavePeople, figures
from studyapp.core.models import Organisation

PROFILES = ["Nerd", "Innovator", "All-rounder"]


def _people(kept: int, moved: int, others: int = 200, seed: int = 0) -> WavePeople:
    """``kept + moved`` people of organisation 1 who took part in both waves, and ``others`` elsewhere."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(kept + moved + others):
        before = PROFILES[i % 3]
        now = before if i < kept else PROFILES[(i + 1) % 3] if i < kept + moved else PROFILES[rng.integers(3)]
        rows.append(
            {
                "organisation_id": 1 if i < kept + moved else None,
                "profile": now,
                "profile_before": before,
                "job_type": "technical",
                "future": "inside",
                **{scale: 4.0 for scale in SCALES},
            }
        )
    frame = pd.DataFrame(rows, index=[f"p{i}" for i in range(len(rows))])
    return WavePeople("T2", "T1", PROFILES, frame, analysis_id=1)


def test_the_share_who_kept_their_profile_is_not_printed_when_it_reveals_a_small_group() -> None:
    organisation = Organisation(id=1, name="Middle Works")
    # 11 kept, 1 moved: 92% would say that one person moved
    shown = figures(_people(kept=11, moved=1), organisation, min_cell=10)
    assert shown.stayed_share is None
    # 3 kept, 9 moved: the 3 are a small group too
    assert figures(_people(kept=3, moved=9), organisation, min_cell=10).stayed_share is None
    # 12 kept and 10 moved: both groups reach the threshold
    safe = figures(_people(kept=12, moved=10), organisation, min_cell=10)
    assert safe.stayed_share is not None and round(safe.stayed_share, 3) == round(12 / 22, 3)
    # everyone kept it (nobody moved: a zero, which stays visible)
    assert figures(_people(kept=12, moved=0), organisation, min_cell=10).stayed_share == 1.0
