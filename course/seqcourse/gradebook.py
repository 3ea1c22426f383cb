"""The class's gradebook: nbgrader's tables and the course's own, in one database at a SQLAlchemy URL.

SQLite (a file in the output folder) for one machine, PostgreSQL when shards on many machines
grade into one gradebook. Besides nbgrader's tables (students, submissions, cell grades, the
ones formgrader edits) the course keeps two of its own, so that `seqcourse report` can write the
whole class's grades.csv and feedback from the database alone:

* `seqcourse_course`: what the gradebook was graded against (the checksum of solutions/ and the
  published answer cells, which the copy report compares with).
* `seqcourse_result`: one row per submitted file, as in grades.csv, with the digest of the files
  it was graded from, the answer cells' source and the compressed feedback page. It is also the
  journal: a submission whose digest is stored is not graded again.

Every write, ours and nbgrader's, happens under one lock per gradebook (`GradebookLock`: an
advisory lock in PostgreSQL, a file lock beside a SQLite file), so concurrent graders never race
for a row or meet "database is locked"; nbgrader's sessions are short (none spans a kernel run),
so the lock costs little parallelism.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from seqcourse._nbcourse import CourseError, tool_env

COURSE_CHECKSUM = "solutions_sha256"
SOLUTION_ANSWERS = "solution_answers"
_PG_LOCK_KEY = 0x5E0C0_0001  # pg_advisory_lock's key: any constant the gradebook's other users do not take


def describe(db_url: str) -> str:
    """The URL with its password hidden (for messages)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def connect(db_url: str):
    """A SQLAlchemy engine for db_url that has answered a query; CourseError naming the fix if not."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        url = make_url(db_url)
    except ArgumentError:
        raise CourseError(f"--db {db_url!r} is not a database URL (e.g. sqlite:////path/gradebook.db or "
                          "postgresql://user:password@host:5432/gradebook)") from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise CourseError(f"gradebook {describe(db_url)}: only sqlite and postgresql gradebooks are supported")
    connect_args = {"connect_timeout": 10} if backend == "postgresql" else {}
    if backend == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).parent
        if not folder.is_dir():
            raise CourseError(f"gradebook {describe(db_url)}: the folder {folder} does not exist")
    try:
        engine = create_engine(db_url, future=True, connect_args=connect_args)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (NoSuchModuleError, ModuleNotFoundError) as err:
        raise CourseError(f"gradebook {describe(db_url)}: no database driver ({err}); "
                          "for PostgreSQL: pip install psycopg2-binary (part of the course's set-up)") from None
    except SQLAlchemyError as err:
        reason = str(getattr(err, "orig", err)).strip().splitlines()[0] if str(getattr(err, "orig", err)).strip() else type(err).__name__
        raise CourseError(f"cannot reach the gradebook at {describe(db_url)}: {reason}\n"
                          "Check that the database server runs and the host, port, user and password are right "
                          "(or leave out --db to use the SQLite gradebook in the output folder).") from None
    return engine


class GradebookLock:
    """One writer at a time per gradebook, across threads, processes and machines.

    Reentrant within a thread; the OS-level lock is taken on the first acquire and dropped on
    the last release. A process that dies holding it releases it (the file closes, the
    PostgreSQL session ends).
    """

    def __init__(self, db_url: str):
        from sqlalchemy.engine import make_url

        url = make_url(db_url)
        self.backend = url.get_backend_name()
        self.db_url = db_url
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._file = None
        self._conn = None
        self._lock_path = None
        if self.backend == "sqlite" and url.database not in (None, "", ":memory:"):
            self._lock_path = Path(url.database).with_name(Path(url.database).name + ".lock")

    def acquire(self) -> None:
        self._thread_lock.acquire()
        self._depth += 1
        if self._depth == 1:
            try:
                self._os_acquire()
            except BaseException:
                self._depth -= 1
                self._thread_lock.release()
                raise

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                self._os_release()
        finally:
            self._thread_lock.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

    def _os_acquire(self) -> None:
        if self._lock_path is not None:
            self._file = open(self._lock_path, "a")
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
        elif self.backend == "postgresql":
            if self._conn is None:
                from sqlalchemy import create_engine

                # A connection of its own, kept open: the advisory lock belongs to its session.
                from sqlalchemy.pool import NullPool

                self._conn = create_engine(self.db_url, future=True, poolclass=NullPool,
                                           connect_args={"connect_timeout": 10}).connect()
            from sqlalchemy import text

            self._conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            self._conn.commit()

    def _os_release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        elif self._conn is not None:
            from sqlalchemy import text

            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
            self._conn.commit()


_installed: dict[str, GradebookLock] = {}


def serialize_gradebooks(db_url: str) -> GradebookLock:
    """Make every nbgrader Gradebook of this process hold db_url's lock from opening to close().

    nbgrader opens a Gradebook for each short step (create the submission, overwrite cells,
    save grades, feedback), never across a kernel run, so holding the lock that long is cheap.
    Call it in each process that grades (after a fork: the lock's connection is the child's).
    """
    from nbgrader import api

    lock = _installed.get(db_url) or _installed.setdefault(db_url, GradebookLock(db_url))
    cls = api.Gradebook
    if not hasattr(cls, "_seqcourse_original"):
        cls._seqcourse_original = (cls.__init__, cls.close)
        original_init, original_close = cls._seqcourse_original

        def __init__(self, *args, **kwargs):
            held = _installed.get(args[0] if args else kwargs.get("db_url"))
            if held is not None:
                held.acquire()
            try:
                original_init(self, *args, **kwargs)
            except BaseException:
                if held is not None:
                    held.release()
                raise
            self._seqcourse_lock = held

        def close(self):
            try:
                original_close(self)
            finally:
                held = self.__dict__.pop("_seqcourse_lock", None)
                if held is not None:
                    held.release()

        cls.__init__, cls.close = __init__, close
    return lock


# --- the course's tables ---------------------------------------------------------------------

def _tables():
    from sqlalchemy import Column, Float, LargeBinary, MetaData, String, Table, Text

    meta = MetaData()
    course = Table("seqcourse_course", meta,
                   Column("name", String(64), primary_key=True),
                   Column("value", Text, nullable=False))
    result = Table("seqcourse_result", meta,
                   Column("student_id", String(255), primary_key=True),
                   Column("assignment", String(255), primary_key=True),
                   Column("notebook", String(1024), primary_key=True),
                   Column("score", Float),
                   Column("max_score", Float),
                   Column("status", Text, nullable=False),
                   Column("digest", String(64), nullable=False),  # of the files graded; '' for rows made without grading
                   Column("answers", Text, nullable=False),       # JSON {answer cell id: source}
                   Column("feedback", LargeBinary),               # zlib-compressed HTML page, or NULL
                   Column("graded_at", Float, nullable=False))
    return meta, course, result


_META, COURSE, RESULT = _tables()
ANSWER_LIMIT = 64 << 10  # characters kept of one answer cell, for the copy report


@dataclass
class Stored:
    """A row of grades.csv (seqcourse.report.Row's fields) as the gradebook keeps it, with what it was made from."""
    row: tuple  # (student_id, assignment, notebook, score, max_score, status)
    digest: str
    answers: dict
    feedback: bytes | None

    def page(self) -> str | None:
        return zlib.decompress(self.feedback).decode("utf-8") if self.feedback is not None else None


class Store:
    """The course's tables in the gradebook at db_url (created on first use)."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self.engine = connect(db_url)
        self.lock = serialize_gradebooks(db_url)
        from nbgrader.api import Gradebook

        # nbgrader runs `alembic` by name when it creates a gradebook: this interpreter's scripts come first.
        scripts = str(Path(sys.executable).parent)
        if scripts not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = tool_env()["PATH"]
        with self.lock:
            Gradebook(db_url).close()  # nbgrader's tables (and its alembic version) first: it checks for any table
            _META.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # course version
    def check_course(self, checksum: str, *, replace: bool) -> None:
        """Stop when the gradebook was graded against other solutions/ (unless replace); else record checksum."""
        from sqlalchemy import select

        with self.lock, self.engine.begin() as conn:
            stored = conn.execute(select(COURSE.c.value).where(COURSE.c.name == COURSE_CHECKSUM)).scalar()
            if stored is not None and stored != checksum and not replace:
                raise CourseError(
                    f"the gradebook at {describe(self.db_url)} was graded against other solutions/ "
                    f"(checksum {stored[:12]}, this course's is {checksum[:12]}): shards of one class must grade "
                    "the same commit of the course. Check out the commit the other shards use, or, to regrade "
                    "with this version, run with --fresh (it records this version and grades everything again).")
        self.set_course_value(COURSE_CHECKSUM, checksum)

    def set_course_value(self, name: str, value: str) -> None:
        with self.lock, self.engine.begin() as conn:
            conn.execute(COURSE.delete().where(COURSE.c.name == name))
            conn.execute(COURSE.insert().values(name=name, value=value))

    def course_value(self, name: str) -> str | None:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            return conn.execute(select(COURSE.c.value).where(COURSE.c.name == name)).scalar()

    # results
    def digests(self) -> dict[tuple[str, str], str]:
        """{(student, assignment): digest} of every submission graded so far."""
        from sqlalchemy import select

        with self.engine.connect() as conn:
            return {(s, a): d for s, a, d in conn.execute(
                select(RESULT.c.student_id, RESULT.c.assignment, RESULT.c.digest).where(RESULT.c.digest != ""))}

    def record(self, key: tuple[str, str], digest: str, rows: list, pages: dict[str, str] | None = None,
               answers: dict[str, dict] | None = None) -> None:
        """Replace everything stored for one submission (student, assignment) in one transaction."""
        pages, answers = pages or {}, answers or {}
        now = time.time()
        values = []
        for row in rows:
            page = pages.get(row.notebook)
            values.append(dict(student_id=row.student_id, assignment=row.assignment, notebook=row.notebook,
                               score=row.score, max_score=row.max_score, status=row.status, digest=digest,
                               answers=json.dumps(answers.get(row.notebook, {}), sort_keys=True),
                               feedback=zlib.compress(page.encode("utf-8"), 6) if page is not None else None,
                               graded_at=now))
        with self.lock, self.engine.begin() as conn:
            conn.execute(RESULT.delete().where((RESULT.c.student_id == key[0]) & (RESULT.c.assignment == key[1])))
            if values:
                conn.execute(RESULT.insert(), values)

    def _keys(self) -> set[tuple[str, str]]:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            return set(conn.execute(select(RESULT.c.student_id, RESULT.c.assignment).distinct()))

    def _delete(self, keys) -> None:
        with self.lock, self.engine.begin() as conn:
            for student, assignment in keys:
                conn.execute(RESULT.delete().where((RESULT.c.student_id == student) & (RESULT.c.assignment == assignment)))

    def forget(self, owns) -> None:
        """--fresh: drop the stored results of the submissions owns(student, assignment) selects
        (nbgrader's own tables are kept: manual grades live there)."""
        self._delete(key for key in self._keys() if owns(*key))

    def prune(self, present: set, owns) -> None:
        """Drop stored results of this shard's submissions that are no longer in the submissions folder."""
        self._delete(key for key in self._keys() if owns(*key) and tuple(key) not in present)

    def results(self, *, with_feedback: bool = False):
        """Every stored row, sorted as grades.csv is; feedback pages only when asked (they are big)."""
        from sqlalchemy import select

        columns = [RESULT.c.student_id, RESULT.c.assignment, RESULT.c.notebook, RESULT.c.score,
                   RESULT.c.max_score, RESULT.c.status, RESULT.c.digest, RESULT.c.answers]
        if with_feedback:
            columns.append(RESULT.c.feedback)
        query = select(*columns).order_by(RESULT.c.student_id, RESULT.c.assignment, RESULT.c.notebook)
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                yield Stored(tuple(r[:6]), r[6], json.loads(r[7]), r[8] if with_feedback else None)


def course_checksum(source: Path) -> str:
    """sha256 over solutions/ (names and bytes of every visible file), the course version graded against."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(source).rglob("*")
                       if p.is_file() and not any(part.startswith(".") for part in p.relative_to(source).parts)):
        h.update(path.relative_to(source).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


# --- shards ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shard:
    """Shard k of n (1 <= k <= n): the submissions whose key hashes to k - 1 modulo n.

    A hash of (student, assignment), not a position in a sorted list, so a shard's share does
    not change when late submissions arrive or when it runs again.
    """
    k: int = 1
    n: int = 1

    @classmethod
    def parse(cls, spec: str) -> "Shard":
        parts = spec.split("/")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise CourseError(f"--shard {spec}: write it K/N (shard K of N, e.g. --shard 1/4)")
        k, n = (int(p) for p in parts)
        if n < 1 or not 1 <= k <= n:
            raise CourseError(f"--shard {spec}: K must be between 1 and N, and N at least 1 "
                              f"(the shards of --shard K/4 are 1/4, 2/4, 3/4, 4/4)")
        return cls(k, n)

    def owns(self, student: str, assignment: str) -> bool:
        if self.n == 1:
            return True
        digest = hashlib.sha256(f"{student}\0{assignment}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.n == self.k - 1

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


def default_jobs() -> int:
    """Submissions graded at once by default: one per usable core, as many as memory allows."""
    from seqcourse.harness import Limits

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return max(1, cores)
    # A submission: the student's process (capped at Limits.memory_bytes) plus the grader's (~1 GiB with torch).
    return max(1, min(cores, memory // (Limits.memory_bytes + (1 << 30))))
