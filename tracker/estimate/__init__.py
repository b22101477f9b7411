"""The streaming roll-analysis engine: pure functions and state machines, no I/O.

Feed samples in chunks of any size to :class:`SessionEstimator`; a whole recording is the
same code fed one chunk (:func:`analyze`).
"""

from tracker.estimate.session import (
    EstimatorConfig,
    LiveState,
    SessionEstimator,
    analyze,
    analyze_chunks,
)

__all__ = ["EstimatorConfig", "LiveState", "SessionEstimator", "analyze", "analyze_chunks"]
