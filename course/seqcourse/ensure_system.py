"""Make sure the system packages the course needs exist: `python ensure_system.py chromium|bubblewrap|postgresql`.

* chromium (`make browser-deps`): a headless browser for the website test. Playwright is
  pointed at the distribution's /usr/bin/chromium instead of running `playwright install`,
  which downloads a browser from outside the package registries and fails offline.
  SEQ_SKIP_BROWSER=1 opts out of the browser test explicitly.
* bubblewrap (`make sandbox-deps`, before `make test` and `make grade`): the sandbox the
  grader runs each student's answers in (seqcourse/harness.py).
* postgresql (`make db-deps`, before `make test`): the database server the sharded-grading
  test starts on a private port (tests/_postgres.py). Grading needs only a reachable server.

A plain script on purpose: it runs with the system python, before or without the course
virtual environment, so it uses the standard library only. Exit status 0 when the package
is present (or installed now), 1 otherwise.
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


def install(prefix: list[str], package: str) -> bool:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update"],
                    ["apt-get", "install", "-y", "--no-install-recommends", package]):
        print("+", " ".join(prefix + command), flush=True)
        if subprocess.run(prefix + command, env=env).returncode != 0:
            return False
    return True


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


def apt_prefix() -> list[str] | None:
    """How to run apt-get here: directly as root, through passwordless sudo, or not at all (None)."""
    if shutil.which("apt-get") is None:
        return None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return []
    if can_sudo():
        return ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
    return None


def ensure_package(package: str, find, why: str, alternative: str = "") -> int:
    """0 when find() finds the package's program, installing the Debian package when it can; else 1 and why."""
    if not find():
        prefix = apt_prefix()
        if prefix is not None:
            install(prefix, package)
    if find():
        print(f"{package}: {find()}")
        return 0
    print(f"error: {why}, and it is missing;\n"
          "it cannot be installed automatically here (needs root or passwordless sudo with apt-get).\n"
          f"Install it yourself, e.g.:  sudo apt-get install -y {package}" + (f"\n({alternative})" if alternative else ""),
          file=sys.stderr)
    return 1


def ensure_bubblewrap() -> int:
    return ensure_package("bubblewrap", find_bwrap, "grading runs each student's answers in a bubblewrap sandbox (`bwrap`)",
                          "or grade without a sandbox, knowingly: seqcourse grade DIR --no-sandbox")


def find_initdb() -> str | None:
    import glob

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return found[-1] if found else shutil.which("initdb")


def ensure_postgresql() -> int:
    return ensure_package("postgresql", find_initdb, "the sharded-grading test starts a PostgreSQL server (`initdb`)")


def ensure_chromium() -> int:
    found = find_chromium()
    if found:
        print(f"chromium: {found}")
        return 0
    if os.environ.get("SEQ_SKIP_BROWSER") == "1":
        print("chromium not found; SEQ_SKIP_BROWSER=1, so the browser test "
              "(tests/test_website.py) will be skipped.")
        return 0
    prefix = apt_prefix()
    if prefix is not None:
        if install(prefix, "chromium") and find_chromium():
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


def main(argv: list[str] | None = None) -> int:
    what = (argv if argv is not None else sys.argv[1:]) or ["chromium"]
    steps = {"chromium": ensure_chromium, "bubblewrap": ensure_bubblewrap, "postgresql": ensure_postgresql}
    if what[0] not in steps:
        print(f"usage: ensure_system.py {{{'|'.join(steps)}}}", file=sys.stderr)
        return 2
    return steps[what[0]]()


if __name__ == "__main__":
    sys.exit(main())
