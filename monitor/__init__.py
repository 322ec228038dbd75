"""meshwatch: SLO monitoring for the data products of a data mesh."""
