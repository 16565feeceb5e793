"""Widgets the screens are built from: the card, the demo panel, charts and small read-outs."""
