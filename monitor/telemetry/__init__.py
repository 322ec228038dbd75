"""OpenTelemetry metrics of the mesh and of the daemon itself, sent to the configured exporters.

    from monitor.telemetry.provider import start_telemetry
    telemetry = start_telemetry(settings)          # None when no exporter is configured
    daemon = Daemon(..., after_evaluation=[telemetry.after_evaluation],
                    on_result=[telemetry.on_result])
    daemon.buffer.on_stored.append(telemetry.on_events)
    telemetry.watch(daemon)
    ...
    telemetry.shutdown()

It builds its own MeterProvider and never touches OpenTelemetry's global one, so tests (and two
daemons in one process) each get their own.

Only `provider`, `instruments` and `exporters` import OpenTelemetry (the `telemetry` extra); the
settings do not, so a lean install reads and checks telemetry settings without it, and the
daemon imports the provider only when `telemetry.exporters` names one.
"""
