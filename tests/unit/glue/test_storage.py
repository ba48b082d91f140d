"""The job's file-system access: listings and footers, as used to find new raw files."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from glue_jobs.curation.storage import Storage


def test_local_walk_lists_what_the_recursive_listing_lists(spark, tmp_path):
    for name in ("LOAD00000001.parquet", "2024/03/01/a.parquet", "2024/03/02/b.parquet", "2024/03/02/_SUCCESS",
                 "2024/03/02/.a.parquet.crc", "2024/04/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * len(name))
    storage = Storage(spark)
    listed = storage.list_files(str(tmp_path), ".parquet")
    assert [f.path.rsplit(str(tmp_path), 1)[1] for f in listed] == \
        ["/2024/03/01/a.parquet", "/2024/03/02/b.parquet", "/LOAD00000001.parquet"]
    assert [f.size for f in listed] == [len("2024/03/01/a.parquet"), len("2024/03/02/b.parquet"),
                                        len("LOAD00000001.parquet")]
    fs = storage._fs(str(tmp_path))  # the flat listing kept for S3, over the same folder
    flat = sorted(s.getPath().toString() for s in storage._iterate(fs.listFiles(storage._path(str(tmp_path)), True)))
    walked = sorted(s.getPath().toString() for s in storage._walk(fs, str(tmp_path)))
    assert walked == flat and len(walked) == 5  # the checksum file system hides `.crc` files


def test_footer_columns_come_from_each_file_even_when_schemas_repeat(spark, tmp_path):
    pq.write_table(pa.table({"a": [1], "b": ["x"]}), tmp_path / "one.parquet")
    pq.write_table(pa.table({"a": [2], "b": ["y"]}), tmp_path / "two.parquet")
    pq.write_table(pa.table({"a": [3]}), tmp_path / "three.parquet")
    storage = Storage(spark)
    one, two, three = (storage.parquet_columns(str(tmp_path / n)) for n in ("one.parquet", "two.parquet", "three.parquet"))
    assert one == two and one[0] == ["a", "b"]
    assert three[0] == ["a"] and three[1] != one[1]
