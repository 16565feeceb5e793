"""`python -m studyapp` runs the command line."""

from studyapp.entry import main

raise SystemExit(main())
