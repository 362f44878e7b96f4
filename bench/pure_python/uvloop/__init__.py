"""Stands in front of the installed `uvloop` on the PYTHONPATH of the servers section 5 runs
"without uvloop": uvicorn's "auto" loop setting imports it, fails, and falls back to asyncio."""

raise ImportError("uvloop is hidden from this benchmark server")
