"""Gongkai (公开): open-government data, validated, loaded into SQLite, served by Datasette."""

__version__ = "0.1.0"
