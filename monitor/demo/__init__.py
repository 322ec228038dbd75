"""The demo mesh: simulated data products for the example contracts of config/, whose behaviour
drifts (latency spikes, an outage, a stalled pipeline, an error burst), with weeks of history."""
