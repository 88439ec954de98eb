"""Storage: one SQLite file, peewee connection handling, named additive migrations."""
