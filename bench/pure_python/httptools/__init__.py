"""Stands in front of the installed `httptools` on the PYTHONPATH of the servers section 5 runs
"without httptools + uvloop": uvicorn's "auto" settings import it, fail, and fall back to its
pure-Python choice (h11, asyncio)."""

raise ImportError("httptools is hidden from this benchmark server")
