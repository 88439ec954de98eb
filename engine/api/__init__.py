"""The local HTTP API: service.py (plain functions), http.py (FastAPI binding), server.py
(uvicorn in a daemon thread of the running instance), tokens.py, commands.py (`api token`).

Importing this package imports neither FastAPI nor uvicorn; server.py does, lazily.
"""
