"""The dashboard's pages, one module each with ``router = APIRouter()`` (listed in engine.api.ui.PAGES)."""
