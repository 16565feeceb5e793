"""One module per screen: home, review, browse, card, card editor, stats, import, export, help."""
