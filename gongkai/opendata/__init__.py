"""The machine-readable catalogue: one module per document, all fed by the catalogue's records
(read in slices through `gongkai.catalogue.harvest`) and served by `plugins/opendata.py`.

- `dcat_us`: DCAT-US 1.1 `data.json`; `dcat_us3`: DCAT-US 3.0 `data-v3.json` (both streamed);
- `dcat_ap`: DCAT-AP 3 RDF (Turtle, JSON-LD, RDF/XML) of the catalogue (Hydra pages) and of
  each dataset;
- `schema_org`: the `Dataset` / `DataCatalog` JSON-LD in the pages' `<head>`;
- `distributions`: the downloads each document lists; `vocab`: what values mean in the
  vocabularies harvesters check; `urls`: the absolute IRIs; `negotiate`: `Accept` → RDF or
  page; `stream`: a JSON document written slice by slice.
"""
