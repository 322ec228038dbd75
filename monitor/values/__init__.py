"""Pure values every layer shares: durations, targets, secrets, the clock."""
