"""A module that takes minutes to import, standing in for a worker stuck starting up."""

import time

time.sleep(300)
