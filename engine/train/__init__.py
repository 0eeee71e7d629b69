"""Training: the standard trainer, objectives, optimisers, schedules, checkpoints, metrics."""
