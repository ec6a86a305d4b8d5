"""``make bench``: every ``bench_*.py`` module here has ``run(table)``; figures are compared with
bare eventsourcing measured in the same run, as ratios (the machines are shared and noisy)."""
