"""Debian's Chromium as every browser test launches it (Playwright's own download cannot work here).

No test touches the internet: besides Chromium's own background traffic switched off, every
host name but this machine's is unknown to it, so a page's off-machine request (Voila's icon
font from a CDN) fails without a DNS query, and so do Chromium's update and sign-in lookups.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--no-proxy-server",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"]
