"""A session: one area, or several one after another, each from its own landmark.

Switching area (a key, a command, a program's next step) asks for the next part. The part
under way goes on until the person lifts the roller: a roller on the floor turns only about
its own axis, so a tilted axis or a turn about another one is a lift (:func:`lift_at`). That
ends the part; what follows (carried, turned, put down at the next area's landmark) is not
rolling, so none of it is fed to an estimator. The next part begins where the roller, put
down and lain on, starts to roll again (:class:`Placing`): its first sample is at the new
landmark, and it is analysed as a whole session is. A person who slides the roller along
instead of lifting it stays in the part under way, which follows the contact correctly; the
next part never begins, and the display keeps asking for the lift: never silently wrong.

A roller may be put down end for end. Lying on the floor it reads the same either way, but
the carry shows it: its axis turns about 180 degrees about the vertical
(:mod:`tracker.core.estimate.carry`), and the part that follows reads its travel the other
way round. A carry that cannot tell (a turn near 90 degrees, the radio lost while carried)
leaves the part read as at a session's start (the roller's marked end on the person's left,
which they are asked to check) and marked ``orientation_unsure``, in the live state at once
and in the analysis; so are the parts after it, whose way round is only known relative to
it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from tracker.core.body import Body
from tracker.core.estimate.area import AreaEstimator, LiveState
from tracker.core.estimate.carry import CarryTurn, Orientation, orientation_of
from tracker.core.estimate.rolling import REST_DPS, RollingStart
from tracker.core.formats.parts import Switch
from tracker.core.formats.roller_analysis import Analysis, Part, listed_parts
from tracker.core.formats.roller_imu import Header, Recording
from tracker.core.tuning import EstimatorConfig

Array = npt.NDArray[np.float64]
#: Put down: turning slower than this about every axis (deg/s) ...
STILL_DPS = 12.0
#: ... with the roller's axis within this of level (g on +x) ...
LEVEL_G = 0.35
#: ... for this long (s). Carrying never holds a roller this still; lying on it does.
PLACED_S = 0.4
#: Not turning for this long (s) is resting; a slow stroke's turn is shorter.
RESTED_S = 1.5
#: At most this much turning (s) is kept while placed, to start the part where it began.
KEEP_S = 20.0
#: A long block is looked at in pieces this long (s), as samples arrive live.
STEP_S = 0.1
#: Lifted: the axis tilted more than 30 degrees (g on +x) ...
LIFT_TILT_G = 0.5
#: ... or turning about a cross axis faster than this (deg/s): rolling never does either.
LIFT_DPS = 60.0
#: After a switch, samples wait this long (s) before the part under way takes them, so those
#: of a lift's beginning (before it shows) are never read as rolling.
HOLD_S = 0.6


def lift_at(block: Array) -> int | None:
    """The first sample of ``block`` (rows ``t, a(3), g(3)``, roller axes) that shows the
    roller lifted off the floor, if any."""
    cross_dps = np.hypot(block[:, 5], block[:, 6])
    lifted = np.flatnonzero((np.abs(block[:, 1]) > LIFT_TILT_G) | (cross_dps > LIFT_DPS))
    return int(lifted[0]) if len(lifted) else None


class Placing:
    """After a switch: waits for the roller to be put down (still and level) and then to
    roll; :meth:`feed` returns the samples from where that rolling began, once it has.

    Rolling begins where the roller last started to turn after resting (:data:`RESTED_S`),
    not at the last slow sample: at the taught pace a first stroke may be too slow to show as
    rolling, and the turn at its end (a second or so under 5 deg/s) is not a rest.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._still_since: float | None = None
        self._placed = False
        self._rolling = RollingStart()
        self._moving: list[Array] = []  # since the roller last began to turn after resting
        self._rest_s = 0.0  # how long it has not turned, up to the latest sample
        self._last_t: float | None = None

    def feed(self, block: Array) -> Array | None:
        """``block``: rows of ``t, ax, ay, az, gx, gy, gz`` in roller axes. Looked at in
        steps of :data:`STEP_S`, as they would arrive live, so that a whole recording fed at
        once finds the same moment."""
        edges = np.searchsorted(block[:, 0], np.arange(block[0, 0], block[-1, 0], STEP_S)[1:])
        for piece in np.split(block, edges):
            if len(piece) and (rolled := self._feed(piece)) is not None:
                return np.concatenate([rolled, block[block[:, 0] > piece[-1, 0]]])
        return None

    def _feed(self, block: Array) -> Array | None:
        if self._placed and lift_at(block) is not None:  # picked up again: not yet down
            self._reset()
        if not self._placed:
            block = self._until_placed(block)
            if not len(block):
                return None
        self._follow(block)
        if not self._rolling.feed(block[:, 0], block[:, 4:7]) or not self._moving:
            return None
        return np.concatenate(self._moving)

    def _follow(self, block: Array) -> None:
        """Keep the samples since the roller last began to turn after a rest."""
        for row in block:
            t = float(row[0])
            dt = 0.0 if self._last_t is None else t - self._last_t
            self._last_t = t
            if abs(row[4]) < REST_DPS:
                self._rest_s += dt
                if self._rest_s >= RESTED_S:
                    self._moving = []  # rested: whatever turned before was settling
                    continue
            else:
                self._rest_s = 0.0
            if self._moving or abs(row[4]) >= REST_DPS:
                self._moving.append(row[None, :])
        if self._moving and self._moving[-1][0, 0] - self._moving[0][0, 0] > KEEP_S:
            kept = np.concatenate(self._moving)  # never more than KEEP_S of it
            self._moving = [kept[kept[:, 0] >= kept[-1, 0] - KEEP_S]]

    def _until_placed(self, block: Array) -> Array:
        """What follows the moment the roller has lain still and level for PLACED_S."""
        still = (np.abs(block[:, 4:7]) < STILL_DPS).all(axis=1) \
            & (np.abs(block[:, 1]) < LEVEL_G)
        for i, quiet in enumerate(still.tolist()):
            t = float(block[i, 0])
            if not quiet:
                self._still_since = None
            elif self._still_since is None:
                self._still_since = t
            elif t - self._still_since >= PLACED_S:
                self._placed = True
                return block[i:]
        return block[:0]


class SessionEstimator:
    """Streaming analysis of a session of one or more parts: an :class:`AreaEstimator` each.

    ``plan`` switches at given moments (a recording's parts); live, :meth:`switch` does.
    The live state is the current part's, with the session's totals in its counters.
    """

    def __init__(self, routine: str, body: Body, diameter_cm: float, sample_rate_hz: float,
                 config: EstimatorConfig | None = None, plan: Sequence[Switch] = ()) -> None:
        self.body, self.config = body, config or EstimatorConfig()
        self._diameter_cm, self._rate_hz = diameter_cm, sample_rate_hz
        self._plan = sorted(plan, key=lambda s: s.at_s)
        self._done: list[tuple[Part, Analysis]] = []
        self._reversed = False  # the part under way lies end for end to the session's start
        self._unsure = False  # ... or nobody can tell whether it does
        self._current: AreaEstimator | None = self._estimator(routine)
        self._asked_s: float | None = None  # when the current part was asked for
        self._pending: Switch | None = None  # asked for, not yet rolling
        self._asked: list[Switch] = []  # every switch, as asked (a re-analysis replays them)
        self._held: Array | None = None  # after a switch, until the lift: not yet fed
        self._placing: Placing | None = None  # after the lift, until rolling again
        self._lifts: list[tuple[float, float]] = []
        self._state: LiveState | None = None
        self._carry: CarryTurn | None = None  # from the lift until the next part rolls
        self._turns_deg: list[float | None] = []  # each carry's turn, as measured

    @property
    def routine(self) -> str:
        """The area asked for: rolled now, or to be once the roller is lifted to it."""
        if self._pending is not None:
            return self._pending.routine
        assert self._current is not None
        return self._current.routine

    @property
    def rolled_part(self) -> tuple[int, str] | None:
        """The part rolled now or last, as (its place in the session, its area); None before
        anything was rolled. Between two parts, and while a switch waits for the lift, it is
        the part rolled, not the one asked for next: what a person rating "this area" means."""
        if self._current is not None and self._current.last_state is not None:
            return len(self._done), self._current.routine
        if self._done:
            return len(self._done) - 1, self._done[-1][0].routine
        return None

    def _estimator(self, routine: str) -> AreaEstimator:
        return AreaEstimator(routine, self.body, self._diameter_cm, self._rate_hz,
                             self.config, self._reversed)

    @property
    def carry_turns_deg(self) -> list[float | None]:
        """Every carry's turn of the roller's axis about the vertical (deg; None: unread)."""
        return list(self._turns_deg)

    def switch(self, routine: str, at_s: float, off: bool = False) -> None:
        """Ask for a part of ``routine`` from ``at_s``: the part under way ends when the
        roller is lifted (``off``: now, the person gets off it for a stretch), the next
        begins when it is put down and rolls. Before anything was rolled the first part's
        area changes; before the next part begins, the area asked for (from the first
        moment it was asked)."""
        if self._current is not None and self._current.last_state is None:
            self._current = self._estimator(routine)
            return
        self._asked.append(Switch(routine, at_s, off))
        if self._pending is None and self._current is not None:
            self._held = np.empty((0, 7))
        first = self._pending or Switch(routine, at_s)
        self._pending = Switch(routine, first.at_s, first.off or off)
        if off and self._held is not None:
            held, self._held = self._held, None
            self._roll(held[held[:, 0] < at_s], [], [])
            self._close(at_s)
            self._placing, self._carry = Placing(), CarryTurn()

    def feed(self, t_s: Array, accel_g: Array, gyro_dps: Array) -> LiveState:
        """Add samples (roller axes); return the live state with everything they raised."""
        if self._current is not None and self._held is None and not self._plan:
            state = self._current.feed(t_s, accel_g, gyro_dps)  # the usual way: one part
            self._state = self._totals(state)
            return self._state
        block = np.column_stack([t_s, accel_g, gyro_dps])
        alerts: list[float] = []
        cautions: list[float] = []
        while len(block):
            cut = len(block)
            if self._plan:
                cut = int(np.searchsorted(block[:, 0], self._plan[0].at_s))
            self._feed(block[:cut], alerts, cautions)
            block = block[cut:]
            if len(block):
                step = self._plan.pop(0)
                self.switch(step.routine, step.at_s, step.off)
        if self._state is None:
            raise ValueError("no samples yet")
        self._state = replace(self._state, alerts_s=alerts, cautions_s=cautions,
                              placing=self._pending is not None,
                              orientation_unsure=self._unsure and self._pending is None)
        return self._state

    def _feed(self, block: Array, alerts: list[float], cautions: list[float]) -> None:
        if not len(block):
            return
        if self._held is not None:  # switched: the part under way goes on until the lift
            held = np.concatenate([self._held, block])
            lift = lift_at(block)
            if lift is None:
                ready = held[:, 0] < held[-1, 0] - HOLD_S
                self._held = held[~ready]
                self._roll(held[ready], alerts, cautions)
                if self._state is not None:
                    self._state = replace(self._state, t_s=float(block[-1, 0]))
                return
            shown_s = float(block[lift, 0])  # the lift shows; it began a little before
            self._roll(held[held[:, 0] < shown_s - HOLD_S], alerts, cautions)
            self._close(shown_s - HOLD_S)
            self._held, self._placing = None, Placing()  # put down only after the lift
            self._carry = CarryTurn()  # which way round it goes down: from the lift on
            carried = held[(held[:, 0] >= shown_s - HOLD_S) & (held[:, 0] < shown_s)]
            self._carry.feed(carried[:, 0], carried[:, 1:4], carried[:, 4:7])
            block = block[lift:]
        if self._placing is not None:
            assert self._pending is not None
            assert self._carry is not None
            rolled = self._placing.feed(block) if len(block) else None
            carried = block if rolled is None else block[block[:, 0] < rolled[0, 0]]
            self._carry.feed(carried[:, 0], carried[:, 1:4], carried[:, 4:7])
            if rolled is None:
                self._state = self._placing_state(float(block[-1, 0]))
                return
            self._lifts[-1] = (self._lifts[-1][0], float(rolled[0, 0]))
            self._put_down(self._carry.turn_deg())
            self._current, self._asked_s = self._estimator(self._pending.routine), \
                self._pending.at_s
            self._pending = self._placing = None
            block = rolled
        self._roll(block, alerts, cautions)

    def _put_down(self, turn_deg: float | None) -> None:
        """Which way round the part about to begin lies, from the carry before it. Where the
        carry cannot tell, the part is read as a session's start is, with the marked end on
        the person's left (:data:`tracker.core.guidance.ORIENTATION_UNSURE` asks them to check),
        and marked: so is every part after it, whose way round is known only from this one's."""
        self._turns_deg.append(turn_deg)
        self._carry = None
        orientation = orientation_of(turn_deg)
        if orientation is Orientation.REVERSED:
            self._reversed = not self._reversed
        elif orientation is Orientation.UNSURE:
            self._reversed, self._unsure = False, True

    def _roll(self, block: Array, alerts: list[float], cautions: list[float]) -> None:
        """Samples of the part under way."""
        if not len(block):
            return
        assert self._current is not None
        state = self._current.feed(block[:, 0], block[:, 1:4], block[:, 4:7])
        alerts += state.alerts_s
        cautions += state.cautions_s
        self._state = self._totals(state)

    def _close(self, lifted_s: float) -> None:
        """The part under way ends: the roller was lifted at ``lifted_s``."""
        assert self._current is not None
        self._done.append(self._part(self._current.finish()))
        self._current = None
        self._lifts.append((self._done[-1][0].end_s, max(lifted_s, self._done[-1][0].end_s)))

    def _part(self, analysis: Analysis) -> tuple[Part, Analysis]:
        first = analysis.start_s if self._asked_s is None else self._asked_s
        return Part(analysis.routine, first, analysis.start_s,
                    analysis.start_s + analysis.duration_s, analysis.strokes,
                    self._reversed, self._unsure), analysis

    def _totals(self, state: LiveState) -> LiveState:
        """The current part's state with the session's counters."""
        if not self._done:
            return state  # the first part's are the session's
        before = [a for _, a in self._done]
        return replace(
            state, strokes=state.strokes + sum(a.strokes for a in before),
            active_s=state.active_s + sum(a.active_s for a in before),
            paused_s=state.paused_s + sum(a.paused_s for a in before),
            lifted_s=sum(b - a for a, b in self._lifts), part=len(self._done),
            part_active_s=state.active_s, orientation_unsure=self._unsure)

    def _placing_state(self, t_s: float) -> LiveState:
        """Between parts: where the last part left off, lifted, nothing raised."""
        assert self._state is not None
        lifted = sum(b - a for a, b in self._lifts[:-1]) + t_s - self._lifts[-1][0]
        return replace(self._state, t_s=t_s, lumbar=False, caution=False, alerts_s=[],
                       cautions_s=[], bout_s=0.0, pause_s=0.0, lifted_s=lifted,
                       part=len(self._done), part_active_s=0.0)

    @property
    def last_state(self) -> LiveState | None:
        return self._state

    def snapshot(self) -> Analysis:
        """The session so far (checkpoints): finished parts and the one under way."""
        rolling = self._current is not None and self._current.last_state is not None
        return self._combine(self._current.snapshot() if rolling and self._current else None)

    def finish(self) -> Analysis:
        """Close the part under way (with what it held back) and return the session's."""
        if self._state is None:
            raise ValueError("a session needs at least one sample")
        if self._held is not None:  # switched, never lifted: all of it was the part's
            end = self._state.t_s
            self._roll(self._held, [], [])
            self._state = replace(self._state, t_s=max(end, self._state.t_s))
            self._held = None
        return self._combine(self._current.finish() if self._current else None)

    def _combine(self, current: Analysis | None) -> Analysis:
        parts = [*self._done, *([self._part(current)] if current is not None else [])]
        if not parts:
            raise ValueError("a session needs at least one sample")
        end = max(self._state.t_s if self._state else 0.0, parts[-1][0].end_s)
        lifts = [(a, min(b, end)) for a, b in self._lifts]
        if self._placing is not None:  # ended while placing: lifted until the end
            lifts[-1] = (lifts[-1][0], end)
        analyses = [a for _, a in parts]
        start = analyses[0].start_s
        return Analysis(
            routine=analyses[0].routine, start_s=start, duration_s=end - start,
            pauses=[p for a in analyses for p in a.pauses],
            strokes=sum(a.strokes for a in analyses),
            segments=[s for a in analyses for s in a.segments],
            lumbar_events=[e for a in analyses for e in a.lumbar_events],
            track_t_s=[t for a in analyses for t in a.track_t_s],
            track_s_cm=[s for a in analyses for s in a.track_s_cm],
            track_s_sd_cm=[s for a in analyses for s in a.track_s_sd_cm],
            caution_events=[e for a in analyses for e in a.caution_events],
            parts=listed_parts([p for p, _ in parts], lifts),
            lifts=lifts, switches=list(self._asked),
        )


def analyze(
    recording: Recording, config: EstimatorConfig | None = None, body: Body | None = None
) -> Analysis:
    """Analyse a whole recording: the streaming estimator fed everything at once."""
    return analyze_chunks(recording.header, [recording.samples], config, body)


def analyze_chunks(
    header: Header, chunks: Iterable[Array], config: EstimatorConfig | None = None,
    body: Body | None = None,
) -> Analysis:
    """Analyse a recording as it is read, chunk by chunk
    (:func:`tracker.core.formats.roller_imu.opened`): memory stays flat however long it is.
    Its parts switch at the moments the header gives, from its first sample."""
    h = header
    estimator: SessionEstimator | None = None
    for samples in chunks:
        if estimator is None:
            t0 = float(samples[0, 0])
            estimator = SessionEstimator(
                h.routine, body or Body(h.user_height_cm), h.roller_diameter_cm,
                h.sample_rate_hz, config, [replace(p, at_s=t0 + p.at_s) for p in h.parts])
        estimator.feed(samples[:, 0], samples[:, 1:4], samples[:, 4:7])
    if estimator is None:
        raise ValueError("a session needs at least one sample")
    return estimator.finish()
