"""gradcheck-suite: a gradient-checking test harness and teaching grader for backprop courses."""

__version__ = "0.1.0"
