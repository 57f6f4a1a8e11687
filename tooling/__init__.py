"""dupstream's development tooling: the development set, its evaluation and calibration, the
benchmarks, the studies behind the matching parameters, and the Triton installer.

Not part of the runtime package: the worker image installs `streams` and `schemas` only, and
`streams` imports this package lazily, inside the `dupstream` subcommands that need it (devset,
eval, calibrate, bench, demo). Installed by the editable development install (`make setup`)."""
