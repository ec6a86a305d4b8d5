"""complaints plugin."""
