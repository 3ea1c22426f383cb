"""Find a data file locally or download it, and check its sha256 every time.

Lookup order for a file named by its path relative to the data root
(e.g. ``"wikitext-2/train.txt"``):

1. ``$SEQ_DATA_DIR/<path>`` when the environment variable is set and the
   file exists there (a read-only local copy, as in CI);
2. ``$SEQ_CACHE_DIR/<path>`` (default ``~/.cache/seqmodels/<path>``), filled
   by an earlier download;
3. a download from the file's canonical URL into the cache.

Whichever copy is used, its sha256 is compared with the sum stored in
:data:`FILES` before it is returned, so a truncated download or an edited
file never reaches a model silently.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "SEQ_DATA_DIR"
CACHE_DIR_ENV = "SEQ_CACHE_DIR"
DEFAULT_CACHE_DIR = Path("~/.cache/seqmodels")


class DataError(Exception):
    """A data file is missing, corrupt or could not be downloaded."""


class MissingDataError(DataError, FileNotFoundError):
    """The file is neither in ``$SEQ_DATA_DIR`` nor in the cache and the download failed."""


class ChecksumError(DataError):
    """A file's sha256 differs from the stored sum (corrupt, truncated or edited)."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: where it comes from and what it must hash to."""

    url: str
    sha256: str


_WT2 = "https://raw.githubusercontent.com/pytorch/examples/main/word_language_model/data/wikitext-2/"
_M30K = "https://github.com/multi30k/dataset/raw/master/data/task1/raw/"

#: Every file the loaders use, keyed by its path under the data root. The
#: sums are those of ``shared/data/SHA256SUMS`` (see that folder's README for
#: provenance and licences).
FILES: dict[str, RemoteFile] = {
    "tinyshakespeare/input.txt": RemoteFile(
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),
    "wikitext-2/train.txt": RemoteFile(
        _WT2 + "train.txt", "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f"),
    "wikitext-2/valid.txt": RemoteFile(
        _WT2 + "valid.txt", "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8"),
    "wikitext-2/test.txt": RemoteFile(
        _WT2 + "test.txt", "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0"),
    "fra-eng/fra-eng.zip": RemoteFile(
        "http://d2l-data.s3-accelerate.amazonaws.com/fra-eng.zip",
        "fa96382b2c8b609e1662654c1e6e6baeb8d30b3bf63dfb4a5a261cc36347df13"),
    "multi30k/train.en.gz": RemoteFile(
        _M30K + "train.en.gz", "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f"),
    "multi30k/train.de.gz": RemoteFile(
        _M30K + "train.de.gz", "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6"),
    "multi30k/train.fr.gz": RemoteFile(
        _M30K + "train.fr.gz", "622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c"),
    "multi30k/val.en.gz": RemoteFile(
        _M30K + "val.en.gz", "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28"),
    "multi30k/val.de.gz": RemoteFile(
        _M30K + "val.de.gz", "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a"),
    "multi30k/val.fr.gz": RemoteFile(
        _M30K + "val.fr.gz", "ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9"),
    "multi30k/test_2016_flickr.en.gz": RemoteFile(
        _M30K + "test_2016_flickr.en.gz",
        "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9"),
    "multi30k/test_2016_flickr.de.gz": RemoteFile(
        _M30K + "test_2016_flickr.de.gz",
        "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8"),
    "multi30k/test_2016_flickr.fr.gz": RemoteFile(
        _M30K + "test_2016_flickr.fr.gz",
        "6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90"),
}


def data_dir() -> Path | None:
    """The local data folder named by ``$SEQ_DATA_DIR``, or ``None`` when unset/empty."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The download cache: ``$SEQ_CACHE_DIR`` or ``~/.cache/seqmodels``."""
    value = os.environ.get(CACHE_DIR_ENV, "").strip()
    return (Path(value) if value else DEFAULT_CACHE_DIR).expanduser()


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, name: str, expected: str, fix: str) -> Path:
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumError(
            f"{path} (data file {name!r}) is corrupt or a different version: "
            f"sha256 {actual}, expected {expected}. Fix: {fix}"
        )
    return path


def _download(url: str, dest: Path, name: str, expected: str, timeout: float) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Download next to the destination and rename only after the sum matched,
    # so an interrupted or corrupt download never sits in the cache.
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out, 1 << 20)
        actual = sha256_of(tmp)
        if actual != expected:
            raise ChecksumError(
                f"download of data file {name!r} from {url} has sha256 {actual}, expected "
                f"{expected} (the file was discarded). Fix: retry; if it persists the server "
                f"serves another version: get the file from the course's data folder and set "
                f"{DATA_DIR_ENV} to that folder."
            )
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError) as err:
        raise MissingDataError(
            f"data file {name!r} was not found locally and could not be downloaded from {url} "
            f"({err}). Looked in: {_places(name)}. Fix: connect to the network and retry, or "
            f"set {DATA_DIR_ENV} to a folder containing {name} (in the course repository: "
            f"{DATA_DIR_ENV}=../shared/data)."
        ) from err
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _places(name: str) -> str:
    local = data_dir()
    where = [f"{DATA_DIR_ENV}={local} -> {local / name}" if local else f"{DATA_DIR_ENV} (unset)"]
    where.append(str(cache_dir() / name))
    return ", ".join(where)


def fetch(name: str, *, timeout: float = 60.0) -> Path:
    """Return the path of a verified copy of data file ``name``.

    Args:
        name: path under the data root, one of the keys of :data:`FILES`,
            e.g. ``"wikitext-2/valid.txt"``.
        timeout: seconds to wait for the server when a download is needed.

    Raises:
        KeyError: ``name`` is not a known data file.
        ChecksumError: the copy found (or downloaded) has the wrong sha256.
        MissingDataError: no local copy and the download failed.
    """
    if name not in FILES:
        raise KeyError(f"unknown data file {name!r}; known files: {', '.join(sorted(FILES))}")
    remote = FILES[name]
    local = data_dir()
    if local is not None and (local / name).is_file():
        return _verify(local / name, name, remote.sha256,
                       f"replace it with the original file ({remote.url}), or unset "
                       f"{DATA_DIR_ENV} to use the download cache instead.")
    cached = cache_dir() / name
    if cached.is_file():
        return _verify(cached, name, remote.sha256,
                       f"delete {cached}; it will be downloaded again on next use.")
    return _download(remote.url, cached, name, remote.sha256, timeout)
