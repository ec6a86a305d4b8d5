"""civic core: the event store, plugin host, audit ledger and shared kits."""
