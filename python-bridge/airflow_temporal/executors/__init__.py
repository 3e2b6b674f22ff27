"""What runs in the scheduler: the TemporalExecutor and its client of the DagRun workflows."""
