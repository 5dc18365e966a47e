"""Quality control, the fair way (issue 27): scoring answers against known answers (control
tasks, attention checks, qualification tests), aggregating redundant answers, and the reads
that show every score to the worker it is about. ``scoring`` and ``aggregation`` are pure
Python (no database, no numpy) so they can be checked against a reference on fixed data."""
