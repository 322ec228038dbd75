from monitor.cli.app import app

app(prog_name="meshwatch")
