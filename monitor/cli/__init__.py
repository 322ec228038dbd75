"""The `meshwatch` command line."""
