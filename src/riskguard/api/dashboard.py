"""The dashboard: the `/risk` page and its files, served from the package (no CDN, nothing fetched
from outside the daemon). The page itself signs in and reads the API like any other client."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "dashboard_router", "static_files"]

STATIC = Path(__file__).resolve().parent / "static"

_NO_STORE = {"Cache-Control": "no-store"}  # a new version of the page is never hidden behind a cached one


def static_files() -> StaticFiles:
    """The page's scripts and styles, mounted at /static."""
    return StaticFiles(directory=STATIC)


def dashboard_router(page: str = "risk.html") -> APIRouter:
    """GET /risk (the page) and GET / (to it). `page` is the HTML file in `static/` to serve."""
    router = APIRouter(include_in_schema=False)

    @router.get("/risk")
    async def risk_page() -> FileResponse:
        return FileResponse(STATIC / page, media_type="text/html", headers=_NO_STORE)

    @router.get("/")
    async def root() -> RedirectResponse:
        return RedirectResponse("/risk")

    return router
