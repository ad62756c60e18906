"""`make loadtest`: a bounded mixed load on a local site, with a worker killed and a rebuild
swapped in while it runs (gongkai/loadtest/run.py); `server.py` runs the real server."""
