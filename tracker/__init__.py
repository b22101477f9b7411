"""roller: track a smart foam roller, see where it is on your body, and stop at the lower back."""

__version__ = "0.1.0"
