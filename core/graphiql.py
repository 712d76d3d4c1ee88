"""GraphiQL, the in-browser IDE at ``GET /graphql`` (``CRM_GRAPHIQL``), working offline.

Its browser files are npm packages that ``make install`` puts into ``web/node_modules``
(``web/package.json`` and its lock pin them); ``CRM_GRAPHIQL_ASSETS`` names another
``node_modules`` directory. When every file of :data:`ASSETS` is there, they are read once at
startup and served at ``/graphiql/assets/<name>``: only those files, whatever else the
directory holds, and the page loads nothing from elsewhere (its Content-Security-Policy
allows this origin only). When they are not installed, the page loads the same pinned
versions from a public CDN, each checked against its Subresource Integrity hash.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

logger = logging.getLogger("crm.graphiql")

CDN = "https://unpkg.com"
ASSETS_PATH = "/graphiql/assets"
"""Where the installed files are served: ``/graphiql/assets/<name>``."""

IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    """One file GraphiQL's page loads, from a pinned npm package."""

    name: str
    """The last segment of its URL, ``/graphiql/assets/<name>``."""
    package: str
    version: str
    path: str
    """Where the file is inside the package."""
    integrity: str
    """Its Subresource Integrity hash (of this version's file)."""

    @property
    def installed_path(self) -> str:
        """Where the file is inside a ``node_modules`` directory."""
        return f"{self.package}/{self.path}"

    @property
    def cdn_url(self) -> str:
        return f"{CDN}/{self.package}@{self.version}/{self.path}"

    @property
    def media_type(self) -> str:
        return "text/css" if self.name.endswith(".css") else "text/javascript"


REACT = Asset(
    name="react.production.min.js",
    package="react",
    version="18.3.1",
    path="umd/react.production.min.js",
    integrity="sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
)
REACT_DOM = Asset(
    name="react-dom.production.min.js",
    package="react-dom",
    version="18.3.1",
    path="umd/react-dom.production.min.js",
    integrity="sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
)
GRAPHIQL_JS = Asset(
    name="graphiql.min.js",
    package="graphiql",
    version="3.8.3",
    path="graphiql.min.js",
    integrity="sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
)
GRAPHIQL_CSS = Asset(
    name="graphiql.min.css",
    package="graphiql",
    version="3.8.3",
    path="graphiql.min.css",
    integrity="sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
)
SCRIPTS = (REACT, REACT_DOM, GRAPHIQL_JS)
"""Loaded in this order: GraphiQL's bundle expects the globals ``React`` and ``ReactDOM``."""
ASSETS = (*SCRIPTS, GRAPHIQL_CSS)
"""Every file the service serves for GraphiQL: the allow-list."""


def default_assets_dir() -> Path:
    """``web/node_modules`` beside the source tree, where ``make install`` puts the files."""
    return Path(__file__).resolve().parent.parent / "web" / "node_modules"


def missing_assets(directory: Path) -> list[str]:
    """The files of :data:`ASSETS` that ``directory`` (a ``node_modules``) lacks."""
    return [a.installed_path for a in ASSETS if not (directory / a.installed_path).is_file()]


_BOOT = """\
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  function remember(key, value) {
    if (value) {
      params.set(key, value);
    } else {
      params.delete(key);
    }
    var search = params.toString();
    history.replaceState(null, "", window.location.pathname + (search ? "?" + search : ""));
  }
  var welcome =
    "# Sign in with the login mutation, then under Headers below put\\n" +
    '# {"Authorization": "Bearer <accessToken>"}\\n\\n' +
    "{\\n  system {\\n    version\\n  }\\n}\\n";
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: window.location.pathname }),
      defaultQuery: welcome,
      query: params.get("q") || undefined,
      variables: params.get("variables") || undefined,
      onEditQuery: function (query) { remember("q", query); },
      onEditVariables: function (variables) { remember("variables", variables); },
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    }),
  );
})();
"""
"""The page's own script: renders GraphiQL against this endpoint, sharing the query and
variables in the URL (``?q=``, ``?variables=``) and keeping the headers (``Authorization``)
in the browser's storage."""

_PAGE = """\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>CRM GraphiQL</title>
    <link rel="icon" href="data:,">
    <style>
      body {{ height: 100%; margin: 0; width: 100%; overflow: hidden; }}
      #graphiql {{ height: 100vh; display: flex; }}
    </style>
{head}
  </head>
  <body>
    <div id="graphiql">Loading...</div>
{scripts}
    <script>{boot}</script>
  </body>
</html>
"""


def _sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass(frozen=True)
class _Loaded:
    body: bytes
    etag: str


class GraphiQL:
    """GraphiQL's page and, when installed, its files: made once, at startup.

    :param assets_dir: the ``node_modules`` holding the packages of :data:`ASSETS`;
        ``None``: :func:`default_assets_dir`. Without all of them the page uses the CDN.
    """

    def __init__(self, assets_dir: Path | None = None) -> None:
        directory = assets_dir or default_assets_dir()
        self.files: dict[str, _Loaded] = {}
        missing = missing_assets(directory)
        if missing:
            logger.warning(
                "GraphiQL loads its files from %s: %s is not installed (run `make install` "
                "with npm, or set CRM_GRAPHIQL_ASSETS)",
                CDN,
                missing[0],
            )
        else:
            for asset in ASSETS:
                body = (directory / asset.installed_path).read_bytes()
                etag = hashlib.sha256(body).hexdigest()[:20]
                self.files[asset.name] = _Loaded(body=body, etag=etag)
        self.html = self._render()
        # The CDN's exact files only, not every package it serves.
        sources = "'self'" if self.local else " ".join(asset.cdn_url for asset in ASSETS)
        self.content_security_policy = "; ".join(
            [
                "default-src 'none'",
                f"script-src {sources} 'sha256-{_sha256(_BOOT.encode())}'",
                f"style-src {sources} 'unsafe-inline'",
                "font-src data:",
                "img-src 'self' data:",
                "connect-src 'self'",
                "base-uri 'none'",
                "form-action 'none'",
                "frame-ancestors 'none'",
            ]
        )

    @property
    def local(self) -> bool:
        """Whether the page loads the installed files (else the CDN's)."""
        return bool(self.files)

    def url(self, asset: Asset) -> str:
        """Where the page loads ``asset`` from: here (with a version for caches) or the CDN."""
        loaded = self.files.get(asset.name)
        if loaded is None:
            return asset.cdn_url
        return f"{ASSETS_PATH}/{asset.name}?v={loaded.etag}"

    def _tag(self, asset: Asset) -> str:
        url = html.escape(self.url(asset))
        checked = "" if self.local else f' integrity="{asset.integrity}" crossorigin="anonymous"'
        if asset.media_type == "text/css":
            return f'    <link rel="stylesheet" href="{url}"{checked}>'
        return f'    <script src="{url}"{checked}></script>'

    def _render(self) -> str:
        return _PAGE.format(
            head=self._tag(GRAPHIQL_CSS),
            scripts="\n".join(self._tag(asset) for asset in SCRIPTS),
            boot=_BOOT,
        )

    def page(self) -> HTMLResponse:
        return HTMLResponse(
            self.html,
            headers={
                "Content-Security-Policy": self.content_security_policy,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",
            },
        )

    async def asset(self, request: Request) -> Response:
        """``GET /graphiql/assets/<name>``: an installed file of :data:`ASSETS`, else 404."""
        name = request.path_params["name"]
        loaded = self.files.get(name)
        if loaded is None:
            return PlainTextResponse("Not Found", status_code=404)
        media_type = next(a.media_type for a in ASSETS if a.name == name)
        headers = {
            "Cache-Control": IMMUTABLE,
            "ETag": f'"{loaded.etag}"',
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        return Response(loaded.body, media_type=media_type, headers=headers)
