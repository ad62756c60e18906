"""`make cluster`: Gongkai past one machine, run here without Docker.

N replica processes (`gongkai serve`, gongkai/loadtest/server.py) on 127.0.0.1 behind nginx
(the Debian package) running deploy/nginx/gongkai-cache.conf, once as the caching tier and
once with its cache off as a plain load balancer; wrk (Debian's) as the load generator.

- `nginx`: the deploy config made local (addresses, port, cache folder), `nginx -t`, running it;
- `wrk`: one bounded wrk run over a list of URLs, its figures as a dict;
- `urls`: the mixed URLs, from a built release (gongkai/loadtest/targets.py);
- `replicas`: starting, killing, restarting and rolling the replicas one at a time;
- `probes`: what the cache tier does with the replicas' headers (SQL, 304, languages);
- `tools`: finding nginx and wrk, or saying which Debian package to install;
- `run`: the measurement, written to `build/cluster.json`.
"""
