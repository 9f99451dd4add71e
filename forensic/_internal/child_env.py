"""The environment of every program this tool starts (tesseract, ffprobe, Chromium, ...).

Built from an allow-list, never copied whole: the passphrase (``FORENSIC_PASSPHRASE``) and any
other secret a user keeps in the environment never reach a child, its core dumps or
``/proc/<pid>/environ``. A child gets what it needs to run: where programs and its data live,
the locale and time zone, a temporary folder and, for a browser, the display.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: Variables a child may inherit, by exact name.
ALLOWED = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TERM",
        # tesseract and OpenMP (its threads, its model folder)
        "TESSDATA_PREFIX",
        "OMP_THREAD_LIMIT",
        "OMP_NUM_THREADS",
        # a browser: display, fonts, its user folders, Playwright's browser folder
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "XAUTHORITY",
        "XDG_RUNTIME_DIR",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
        "FONTCONFIG_PATH",
        "FONTCONFIG_FILE",
        "PLAYWRIGHT_BROWSERS_PATH",
        # libraries finding themselves on unusual installs
        "LD_LIBRARY_PATH",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    }
)
#: Variables a child may inherit, by prefix (the locale categories).
ALLOWED_PREFIXES = ("LC_",)


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process: the allowed variables of ours, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in ALLOWED or name.startswith(ALLOWED_PREFIXES)
    }
    env.update(extra or {})
    return env
