from monitor.cli import app

app(prog_name="meshwatch")
