"""The portal a person uses: the library behind the pages of `plugins/portal.py`.

Small modules, pure functions, no Datasette imports, so each is unit-tested on its own:

- `catalogue`: the catalogue's filters, sorting, pagination and facet counts over catalog.db;
- `timeliness`: is a dataset on time for its update frequency, judged on a given day;
- `quality`: the 0–100 quality score with its documented weights (docs/quality-score.md);
- `dictionary`: the data dictionary (constraints in words, both languages) and its CSV;
- `api_examples`: ready-to-copy curl / Python / JavaScript calls with the site's real URLs;
- `markdown`: descriptions rendered and sanitised (build time: catalog_db stores the HTML);
- `charts`: which chart suits a table (build time) and the SVG geometry (request time).
"""
