"""The study app in the terminal, built with Textual.

Screens call services and hold no SQL and no scheduling math; slow work runs in workers that
post messages back. `create_app` in `studyapp.tui.app` builds the app on a collection.
"""
