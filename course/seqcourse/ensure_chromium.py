"""Make sure a headless Chromium exists for the website test (`make browser-deps`).

A plain script on purpose: it runs with the system python, before or without the
course virtual environment, so it uses the standard library only.

Playwright is pointed at the distribution's /usr/bin/chromium instead of running
`playwright install`, which downloads a browser from outside the package
registries and fails offline.

Exit status 0 when Chromium is present (or installed now) or when the browser
test is explicitly opted out of with SEQ_SKIP_BROWSER=1; 1 otherwise.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = "/usr/bin/chromium"
INSTALL = "apt-get update && apt-get install -y --no-install-recommends chromium"


def find_chromium() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


def can_sudo() -> bool:
    if shutil.which("sudo") is None:
        return False
    # -n: never prompt; a password prompt in `make test` would hang CI.
    return subprocess.run(["sudo", "-n", "true"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def install(prefix: list[str]) -> bool:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update"],
                    ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        print("+", " ".join(prefix + command), flush=True)
        if subprocess.run(prefix + command, env=env).returncode != 0:
            return False
    return True


def main() -> int:
    found = find_chromium()
    if found:
        print(f"chromium: {found}")
        return 0
    if os.environ.get("SEQ_SKIP_BROWSER") == "1":
        print("chromium not found; SEQ_SKIP_BROWSER=1, so the browser test "
              "(tests/test_website.py) will be skipped.")
        return 0
    if shutil.which("apt-get") is not None:
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            prefix: list[str] | None = []
        elif can_sudo():
            prefix = ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
        else:
            prefix = None
        if prefix is not None:
            if install(prefix) and find_chromium():
                print(f"chromium: {find_chromium()}")
                return 0
            print("error: installing chromium with apt-get failed (see above).", file=sys.stderr)
            return 1
    print(
        "error: the website test needs Chromium at /usr/bin/chromium (or `chromium` on PATH),\n"
        "and it cannot be installed automatically here (needs root or passwordless sudo with apt-get).\n"
        "Install it yourself, e.g. on Debian/Ubuntu:\n"
        f"    sudo sh -c '{INSTALL}'\n"
        "(do not run `playwright install`: it downloads a browser from outside the package registries).\n"
        "Or skip the browser test explicitly:  SEQ_SKIP_BROWSER=1 make test",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
