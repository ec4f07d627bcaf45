"""Benchmark: company briefings. One briefing with its charts, and every briefing of a wave for 50
organisations (each in Dutch and English, plus the sample-wide ones) in one run.

    .venv/bin/python bench/briefing.py [--quick] [--organisations N] [--people N]

A simulated cohort (analysis.synthetic) is stored in a temporary SQLite database, 50 employers are coded
to its participants (8 to 60 people each, so some fall under the threshold of 10) and the cohort is
analysed once (not timed). Then ``render_pdf`` for one organisation is timed (median of 5), and
``generate_briefings`` for the whole wave (figures with suppression, PDFs, database rows, notices).
Prints a table, then as its last line one JSON object: seconds_one, seconds_all, briefings, pages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sqlmodel import Session, SQLModel, select  # noqa: E402

import studyapp.core.models  # noqa: E402
from studyapp.analyses.runs import execute, queue_analysis  # noqa: E402
from studyapp.briefings.content import figures, wave_people  # noqa: E402
from studyapp.briefings.render import render_pdf  # noqa: E402
from studyapp.briefings.service import generate_briefings  # noqa: E402
from studyapp.core.db import make_engine  # noqa: E402
from studyapp.core.models import Briefing, Organisation, Participant, Wave  # noqa: E402
from studyapp.instruments.loader import bundled_definitions, load_file  # noqa: E402
from studyapp.studies import services  # noqa: E402
from studyapp.studies.schedule import WaveSchedule  # noqa: E402
from studyapp.synthetic_cohort import store_synthetic_cohort  # noqa: E402

TARGET_ONE_S = 5.0


def arrange(engine, people: int, organisations: int) -> int:
    """A study with a two-wave simulated cohort, coded employers and a finished analysis; returns the wave id."""
    from datetime import UTC, datetime

    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        instrument = load_file(session=session, path=bundled_definitions()[0]).instrument
        study = services.create_study(session=session, data=services.StudyData(slug="bench", name="Bridge the Gap"))
        cohort = services.create_cohort(session=session, study=study, name="Alumni")
        waves = []
        for n, month in enumerate((3, 9), start=1):
            waves.append(
                services.create_wave(
                    session=session,
                    cohort=cohort,
                    data=services.WaveData(
                        label=f"T{n}",
                        instrument_id=instrument.id,
                        schedule=WaveSchedule(
                            schedule="on_date",
                            opens_at=datetime(2026, month, 1, 8, tzinfo=UTC),
                            closes_at=datetime(2026, month, 28, 8, tzinfo=UTC),
                            reminder_days=[7],
                        ),
                    ),
                )
            )
        session.flush()
        store_synthetic_cohort(session=session, cohort=cohort, waves=waves, n=people, random_state=11)
        rng = np.random.default_rng(5)
        sizes = rng.integers(8, 61, size=organisations)
        members = session.exec(select(Participant).where(Participant.cohort_id == cohort.id)).all()
        start = 0
        for index, size in enumerate(sizes):
            organisation = Organisation(name=f"Organisation {index + 1:02d}", sector="technical_industry")
            session.add(organisation)
            session.flush()
            for participant in members[start : start + int(size)]:
                participant.organisation_id = organisation.id
                session.add(participant)
            start += int(size)
        run = queue_analysis(
            session=session,
            study=study,
            cohort=cohort,
            parameters={"k_min": 6, "k_max": 6, "parameterisations": ["EEI"], "n_starts": 5, "transition_bootstrap": 0},
            requested_by="bench",
        )
        run.status = "running"
        session.commit()
        run_id, wave_id = run.id, waves[1].id
    assert execute(engine, run_id).status == "done"
    return wave_id


def pages(pdf: bytes) -> int:
    """Pages of a PDF, by poppler's pdfinfo."""
    import re
    import subprocess

    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        info = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 organisations, 800 people")
    parser.add_argument("--organisations", type=int, default=None)
    parser.add_argument("--people", type=int, default=None)
    args = parser.parse_args()
    organisations = args.organisations or (20 if args.quick else 50)
    people = args.people or (800 if args.quick else 2000)
    with tempfile.TemporaryDirectory(prefix="bench-briefing-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        began = time.perf_counter()
        wave_id = arrange(engine, people, organisations)
        arranged = time.perf_counter() - began
        with Session(engine) as session:
            wave = session.get(Wave, wave_id)
            study = wave.cohort_id and session.get(studyapp.core.models.Cohort, wave.cohort_id)
            study = session.get(studyapp.core.models.Study, study.study_id)
            largest = session.exec(select(Organisation).order_by(Organisation.id)).first()
            one_times = []
            for _ in range(5):
                started = time.perf_counter()
                data = wave_people(session=session, wave=wave)
                shown = figures(data, largest, min_cell=10)
                pdf, _ = render_pdf(shown, study=study, language="en", analysis_id=data.analysis_id)
                one_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            report = generate_briefings(session=session, wave=wave, min_cell=10)
            session.commit()
            seconds_all = time.perf_counter() - started
            made = session.exec(select(Briefing)).all()
            page_counts = [pages(b.pdf) for b in made]
        engine.dispose()
    seconds_one = statistics.median(one_times)
    print(f"arranging ({people} simulated people, {organisations} organisations, analysis): {arranged:.1f} s")
    print(f"one briefing (load, suppress, render {pages(pdf)} pages): median {seconds_one:.2f} s of 5")
    print(
        f"all briefings of the wave: {len(made)} PDFs ({report.organisation_briefings} for organisations, "
        f"{len(report.below_threshold)} of them below the threshold, {report.sample_briefings} sample-wide) "
        f"in {seconds_all:.1f} s ({seconds_all / len(made):.2f} s each)"
    )
    print(f"target: one briefing under {TARGET_ONE_S:.0f} s: {'met' if seconds_one < TARGET_ONE_S else 'NOT met'}")
    print(
        json.dumps(
            {
                "seconds_one": round(seconds_one, 3),
                "seconds_all": round(seconds_all, 2),
                "briefings": len(made),
                "organisations": organisations,
                "below_threshold": len(report.below_threshold),
                "people": people,
                "pages_one": pages(pdf),
                "pages_min": min(page_counts),
                "pages_max": max(page_counts),
                "target_one_s": TARGET_ONE_S,
                "target_met": seconds_one < TARGET_ONE_S,
            }
        )
    )


if __name__ == "__main__":
    main()
