"""The local HTTP API: service.py (plain functions), http.py (FastAPI binding), server.py
(uvicorn in a daemon thread of the running instance), tokens.py; its CLI group (`api token`) is engine/cli/api.py.

Importing this package imports neither FastAPI nor uvicorn; server.py does, lazily.
"""
