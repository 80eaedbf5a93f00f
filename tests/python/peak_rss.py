"""Runs a command and prints its peak resident set size in KiB (wait4's ru_maxrss); fails if the command does.

Usage: peak_rss.py COMMAND [ARG...]
"""
import os
import subprocess
import sys

child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
code = os.waitstatus_to_exitcode(status)
if code != 0:
    sys.exit(f"{sys.argv[1:]} exited with {code}")
print(usage.ru_maxrss)
