"""Configuration: settings and contracts of one directory, loaded and validated together."""
