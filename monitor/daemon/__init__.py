"""The daemon: the scheduler of probes, evaluation and alert rounds, its HTTP endpoints and logs."""
