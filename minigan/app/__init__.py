"""The application over the library: training runs on disk (``minigan train``), their
checks, checkpoints, pictures and reports, and ``minigan evaluate``."""
