"""File-system access through Spark's Hadoop FileSystem, so the same calls work on local
directories and on s3:// (EMRFS on Glue) without boto3 in the transforms.

Every path the job touches passes through here, Spark's own reads and writes included (noted by
`reading` and `writing`), so an observer sees each access as (kind, path) whether the path is on
local disk or in S3: the access proof (tests/unit/infra/access) maps them to the S3 calls EMRFS
makes and checks them against the job's role."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import SparkSession

# Kinds of access an observer is told about: a file's or folder's status, a folder's listing, a
# file read or written whole, a folder deleted recursively, Spark reading files or folders, Spark
# (over)writing a folder.
STAT, LIST, READ, WRITE, DELETE, SPARK_READ, SPARK_WRITE = (
    "stat", "list", "read", "write", "delete", "spark_read", "spark_write")
Observer = Callable[[str, str], None]


@dataclass(frozen=True)
class FileInfo:
    path: str  # fully qualified, as the file system returns it
    size: int


class Storage:
    def __init__(self, spark: SparkSession, observe: Observer | None = None):
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        self._columns_of: dict[str, list[str]] = {}  # Parquet schema text -> its column names
        self._observe = observe

    def _note(self, kind: str, path: str) -> None:
        if self._observe is not None:
            self._observe(kind, path)

    def reading(self, *paths: str) -> None:
        """Spark is about to read these files or folders."""
        for path in paths:
            self._note(SPARK_READ, path)

    def writing(self, path: str) -> None:
        """Spark is about to (over)write this folder."""
        self._note(SPARK_WRITE, path)

    def _path(self, path: str):
        return self._jvm.org.apache.hadoop.fs.Path(path)

    def _fs(self, path: str):
        return self._path(path).getFileSystem(self._conf)

    def qualify(self, path: str) -> str:
        p = self._path(path)
        return p.getFileSystem(self._conf).makeQualified(p).toString()

    def exists(self, path: str) -> bool:
        self._note(STAT, path)
        return self._fs(path).exists(self._path(path))

    def list_files(self, root: str, suffix: str) -> list[FileInfo]:
        """Every file under root (recursively) whose name ends with suffix, sorted by path."""
        if not self.exists(root):
            return []
        self._note(LIST, root)
        fs = self._fs(root)
        statuses = self._walk(fs, root) if fs.getScheme() == "file" else self._iterate(fs.listFiles(self._path(root), True))
        found = []
        for status in statuses:
            path = status.getPath()
            name = path.getName()
            if name.endswith(suffix) and not name.startswith(("_", ".")):
                found.append(FileInfo(path.toString(), status.getLen()))
        return sorted(found, key=lambda f: f.path)

    @staticmethod
    def _iterate(remote_iterator):
        while remote_iterator.hasNext():
            yield remote_iterator.next()

    def _walk(self, fs, root: str):
        """Every file under root, one directory listing at a time. On a local disk this replaces
        the recursive `listFiles` (one flat listing on S3, which keeps it), whose located statuses
        read each file's owner and permissions through a shell command per file when Hadoop has
        no native library (docs/glue-performance.md, "Incremental runs")."""
        pending = [self._path(root)]
        while pending:
            for status in fs.listStatus(pending.pop()):
                if status.isDirectory():
                    pending.append(status.getPath())
                else:
                    yield status

    def list_dirs(self, root: str) -> list[str]:
        if not self.exists(root):
            return []
        self._note(LIST, root)
        return sorted(s.getPath().getName() for s in self._fs(root).listStatus(self._path(root)) if s.isDirectory())

    def read_bytes(self, path: str) -> bytes:
        """A whole small file (reference data, state); FileNotFoundError when there is none."""
        if not self.exists(path):
            raise FileNotFoundError(path)
        self._note(READ, path)
        stream = self._fs(path).open(self._path(path))
        try:
            return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()

    def read_text(self, path: str) -> str | None:
        try:
            return self.read_bytes(path).decode("utf-8")
        except FileNotFoundError:
            return None

    def write_text(self, path: str, text: str) -> None:
        """Write a whole small file (state and manifests); overwrites."""
        self.write_bytes(path, text.encode("utf-8"))

    def write_bytes(self, path: str, body: bytes) -> None:
        """Write a whole small file (a gzip dataset, a manifest); overwrites."""
        self._note(WRITE, path)
        stream = self._fs(path).create(self._path(path), True)
        try:
            stream.write(bytearray(body))
        finally:
            stream.close()

    def delete(self, path: str) -> None:
        if self.exists(path):
            self._note(DELETE, path)
            self._fs(path).delete(self._path(path), True)

    def move(self, source: str, target: str) -> None:
        """Replace target by source (a directory): delete target, then rename source onto it."""
        self.delete(target)
        parent = self._path(target).getParent()
        fs = self._fs(target)
        if parent is not None and not self.exists(parent.toString()):
            self._note(WRITE, parent.toString() + "/")  # a folder marker on S3
            fs.mkdirs(parent)
        # On S3 a rename copies each object, then deletes the source.
        self._note(LIST, source)
        self._note(SPARK_READ, source)
        self._note(SPARK_WRITE, target)
        self._note(DELETE, source)
        if not fs.rename(self._path(source), self._path(target)):
            raise OSError(f"could not move {source} to {target}")

    def parquet_columns(self, path: str) -> tuple[list[str], str]:
        """(column names, schema text) from a Parquet footer; raises on a corrupt file. The names
        are fetched once per distinct schema (one call per field), not once per file."""
        self._note(READ, path)
        reader = self._jvm.org.apache.parquet.hadoop.ParquetFileReader
        schema = reader.readFooter(self._conf, self._path(path)).getFileMetaData().getSchema()
        text = schema.toString()
        if text not in self._columns_of:
            self._columns_of[text] = [field.getName() for field in schema.getFields()]
        return list(self._columns_of[text]), text
