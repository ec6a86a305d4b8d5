"""budget_vote plugin."""
