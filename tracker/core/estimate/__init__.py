"""The streaming roll-analysis engine: pure functions and state machines, no I/O.

Feed samples in chunks of any size to :class:`SessionEstimator`; a whole recording is the
same code fed one chunk (:func:`analyze`). Each part of a session is an
:class:`AreaEstimator`'s.
"""

from tracker.core.estimate.area import AreaEstimator, LiveState
from tracker.core.estimate.session import SessionEstimator, analyze, analyze_chunks
from tracker.core.formats.parts import Switch
from tracker.core.tuning import EstimatorConfig

__all__ = ["AreaEstimator", "EstimatorConfig", "LiveState", "SessionEstimator", "Switch",
           "analyze", "analyze_chunks"]
