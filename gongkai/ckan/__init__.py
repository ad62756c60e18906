"""The CKAN Action API, read-only subset (docs/architecture.md; interop.md)."""
