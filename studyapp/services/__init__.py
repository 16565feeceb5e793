"""Services: plain classes that the TUI and the command line call. No UI, no torch."""
