"""seqmodels.data fetch and loaders on tiny corpora made here (no real network).

Downloads go to a throw-away http.server on 127.0.0.1; FILES is patched so
each test's tiny files carry their own sums.
"""

import functools
import gzip
import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest

from seqmodels import data
from seqmodels.data import files as fetch_mod


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), mtime=0)


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buf.getvalue()


TINY = {
    "tinyshakespeare/input.txt": "First Citizen:\nBefore we proceed\n".encode(),
    # blank line " ", and a U+2028 inside a line that must not split it
    "wikitext-2/train.txt": " = Title = \n \n the cat sat \u2028 down \n".encode(),
    "wikitext-2/valid.txt": b" a b \n",
    "wikitext-2/test.txt": b" c \n",
    "fra-eng/fra-eng.zip": _zip({"fra-eng/fra.txt": "Go.\tVa !\nHi.\tSalut !\textra\n",
                                 "fra-eng/_about.txt": "about"}),
    "multi30k/val.en.gz": _gz("A dog.\nTwo men.\n"),
    "multi30k/val.de.gz": _gz("Ein Hund.\nZwei M\u00e4nner.\n"),
    "multi30k/val.fr.gz": _gz("Un chien.\nDeux hommes.\n"),
    "multi30k/test_2016_flickr.en.gz": _gz("One.\n"),
    "multi30k/test_2016_flickr.de.gz": _gz("Eins.\nZwei.\n"),
}


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A SEQ_DATA_DIR with the tiny corpora, an empty cache, and FILES matching them."""
    local = tmp_path / "local"
    for name, content in TINY.items():
        (local / name).parent.mkdir(parents=True, exist_ok=True)
        (local / name).write_bytes(content)
    files = {name: data.RemoteFile("http://127.0.0.1:9/unreachable/" + name, _sha(c))
             for name, c in TINY.items()}
    monkeypatch.setattr(fetch_mod, "FILES", files)
    monkeypatch.setenv("SEQ_DATA_DIR", str(local))
    monkeypatch.setenv("SEQ_CACHE_DIR", str(tmp_path / "cache"))
    return local


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1; yields (base_url, www folder, request log)."""
    www = tmp_path / "www"
    www.mkdir()
    log = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            log.append(self.path)

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", www, log
    httpd.shutdown()
    httpd.server_close()


def test_loaders_read_the_local_folder(tiny):
    assert data.load_tiny_shakespeare() == "First Citizen:\nBefore we proceed\n"
    assert data.load_wikitext2("train") == [" = Title = ", " ", " the cat sat \u2028 down "]
    assert data.load_wikitext2("valid") == [" a b "]
    assert data.load_fra_eng() == [("Go.", "Va !"), ("Hi.", "Salut !")]
    assert data.load_multi30k("val") == [("Ein Hund.", "A dog."), ("Zwei M\u00e4nner.", "Two men.")]
    assert data.load_multi30k("val", src="en", tgt="fr") == [("A dog.", "Un chien."),
                                                            ("Two men.", "Deux hommes.")]


def test_loaders_reject_bad_arguments_and_unaligned_files(tiny):
    with pytest.raises(ValueError, match="split"):
        data.load_wikitext2("validation")
    with pytest.raises(ValueError, match="different"):
        data.load_multi30k("val", src="en", tgt="en")
    with pytest.raises(ValueError, match="tgt"):
        data.load_multi30k("val", tgt="es")
    with pytest.raises(ValueError, match="1 en lines but 2 de lines"):
        data.load_multi30k("test", src="en", tgt="de")


def test_corrupt_local_file_names_file_and_fix(tiny):
    (tiny / "wikitext-2/valid.txt").write_bytes(b" a b c \n")
    with pytest.raises(data.ChecksumError) as err:
        data.load_wikitext2("valid")
    msg = str(err.value)
    assert str(tiny / "wikitext-2/valid.txt") in msg and "SEQ_DATA_DIR" in msg
    assert _sha(TINY["wikitext-2/valid.txt"]) in msg


def test_missing_everywhere_and_offline_names_file_places_and_fix(tiny, monkeypatch, tmp_path):
    monkeypatch.setenv("SEQ_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(data.MissingDataError) as err:
        data.load_tiny_shakespeare()
    msg = str(err.value)
    assert "tinyshakespeare/input.txt" in msg and "SEQ_DATA_DIR" in msg
    assert str(tmp_path / "cache" / "tinyshakespeare/input.txt") in msg
    assert isinstance(err.value, FileNotFoundError)
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]  # no partial file


def test_download_verifies_caches_and_reuses(tiny, server, monkeypatch, tmp_path):
    base, www, log = server
    name = "wikitext-2/test.txt"
    (www / "test.txt").write_bytes(TINY[name])
    monkeypatch.setitem(fetch_mod.FILES, name, data.RemoteFile(base + "test.txt", _sha(TINY[name])))
    monkeypatch.delenv("SEQ_DATA_DIR")
    assert data.load_wikitext2("test") == [" c "]
    cached = tmp_path / "cache" / name
    assert cached.read_bytes() == TINY[name]
    assert log == ["/test.txt"]
    (www / "test.txt").unlink()  # a second use must not touch the network
    assert data.load_wikitext2("test") == [" c "]
    assert log == ["/test.txt"]


def test_download_with_wrong_sum_is_discarded(tiny, server, monkeypatch, tmp_path):
    base, www, _ = server
    name = "tinyshakespeare/input.txt"
    (www / "input.txt").write_bytes(b"tampered\n")
    monkeypatch.setitem(fetch_mod.FILES, name, data.RemoteFile(base + "input.txt", _sha(TINY[name])))
    monkeypatch.setenv("SEQ_DATA_DIR", "")
    with pytest.raises(data.ChecksumError, match=r"input\.txt.*discarded"):
        data.load_tiny_shakespeare()
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_http_error_is_a_missing_data_error(tiny, server, monkeypatch):
    base, _, _ = server
    name = "tinyshakespeare/input.txt"
    monkeypatch.setitem(fetch_mod.FILES, name, data.RemoteFile(base + "nope.txt", _sha(TINY[name])))
    monkeypatch.delenv("SEQ_DATA_DIR")
    with pytest.raises(data.MissingDataError, match="404"):
        data.load_tiny_shakespeare()


def test_cache_is_checked_on_every_use(tiny, monkeypatch, tmp_path):
    monkeypatch.delenv("SEQ_DATA_DIR")
    cached = tmp_path / "cache" / "wikitext-2/valid.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(TINY["wikitext-2/valid.txt"])
    assert data.load_wikitext2("valid") == [" a b "]
    cached.write_bytes(b" a b \n truncated")
    with pytest.raises(data.ChecksumError, match=f"delete {cached}"):
        data.load_wikitext2("valid")


def test_missing_file_in_local_folder_falls_back_to_cache(tiny, tmp_path):
    (tiny / "wikitext-2/test.txt").unlink()
    cached = tmp_path / "cache" / "wikitext-2/test.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(TINY["wikitext-2/test.txt"])
    assert data.load_wikitext2("test") == [" c "]


def test_unknown_file_name(tiny):
    with pytest.raises(KeyError, match="known files"):
        data.fetch("wikitext-103/train.txt")


def test_default_cache_dir(monkeypatch):
    monkeypatch.delenv("SEQ_CACHE_DIR", raising=False)
    assert data.cache_dir() == Path("~/.cache/seqmodels").expanduser()


SHARED_SUMS = Path(__file__).resolve().parents[2] / "shared" / "data" / "SHA256SUMS"


@pytest.mark.skipif(not SHARED_SUMS.is_file(), reason="../shared/data not beside the checkout")
def test_stored_sums_match_the_shared_data_readme():
    listed = {}
    for line in SHARED_SUMS.read_text().splitlines():
        digest, name = line.split()
        listed[name] = digest
    assert {name: f.sha256 for name, f in data.FILES.items()} == listed
