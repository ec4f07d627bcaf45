"""One scheduler tick: plan what is due, then send it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from studyapp.core.privacy import Privacy
from waves.dispatcher import DispatchConfig, DispatchReport, dispatch
from waves.planner import DEFAULT_MIN_CELL_SIZE, PlanReport, plan_due
from waves.transport import Transport


@dataclass(frozen=True)
class TickReport:
    """What a tick planned and sent."""

    plan: PlanReport
    dispatch: DispatchReport


def run_tick(
    *,
    engine: Engine,
    privacy: Privacy,
    transport: Transport,
    config: DispatchConfig,
    now: datetime,
    worker: str,
    extra_transports: list[Transport] | None = None,
    beside_dispatch: Callable[[], AbstractContextManager[object]] | None = None,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
) -> TickReport:
    """Plan due invitations and reminders at ``now``, then dispatch the outbox (inside ``beside_dispatch``,
    e.g. further dispatcher processes started once planning is done)."""
    with Session(engine, expire_on_commit=False) as session:
        plan = plan_due(session=session, now=now, min_cell_size=min_cell_size)
    with beside_dispatch() if beside_dispatch is not None else nullcontext():
        sent = dispatch(
            engine=engine,
            privacy=privacy,
            transport=transport,
            config=config,
            worker=f"{worker}/{secrets.token_hex(3)}",
            now=now,
            extra_transports=extra_transports or [],
        )
    return TickReport(plan=plan, dispatch=sent)
