"""studyapp: a terminal flashcard trainer for deep learning, where every concept can be run."""

__version__ = "0.1.0"
