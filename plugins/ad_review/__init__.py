"""ad_review plugin."""
