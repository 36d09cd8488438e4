"""Course tooling: the notebook runner, headline numbers, nbgrader assignments, environment check."""
