"""apartment_vote plugin."""
