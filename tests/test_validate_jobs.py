"""--jobs: the ranges a log is cut into (harness.offline._spans) and how a range is read
(_read_range): the same lines as iterating the file, whatever the block size; shrinking ranges
from line starts that cover the file once."""

from __future__ import annotations

import pytest

from harness import offline


@pytest.fixture
def log(tmp_path):
    """Lines of varied length, one longer than the smallest block, no newline at the very end."""
    lines = [b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * (i * 7 % 300)) for i in range(2000)]
    lines[500] = b'{"long": "' + b"y" * 5000 + b'"}\n'
    lines[-1] = lines[-1].rstrip(b"\n")
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"".join(lines))
    return path, lines


@pytest.mark.parametrize("block", [7, 300, 4096, 64 << 10])
def test_a_range_reads_the_lines_the_file_gives(log, monkeypatch, block):
    path, lines = log
    monkeypatch.setattr(offline, "READ_BLOCK", block)
    monkeypatch.setattr(offline, "CHUNK_BYTES", 20_000)
    spans = offline._spans(str(path), 2)
    assert len(spans) > 5
    read = [line for span in spans for line in offline._read_range(str(path), *span)]
    assert read == lines


@pytest.mark.parametrize("jobs", [2, 3, 8])
def test_ranges_start_at_lines_cover_the_file_and_shrink(log, monkeypatch, jobs):
    path, lines = log
    monkeypatch.setattr(offline, "CHUNK_BYTES", 20_000)
    spans = offline._spans(str(path), jobs)
    size = path.stat().st_size
    assert spans[0][0] == 0 and spans[-1][1] == size
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # contiguous, no overlap
    offsets, at = set(), 0
    for line in lines:
        offsets.add(at)
        at += len(line)
    assert all(start in offsets for start, _ in spans)  # every range begins a line
    sizes = [b - a for a, b in spans]
    # Shrinking to the tail size (line ends move each cut by less than a line, the longest 5 kB).
    assert all(later <= earlier + 5100 for earlier, later in zip(sizes, sizes[1:]))
    assert sizes[0] >= size // (2 * jobs) and sizes[-2] <= 20_000 // offline.TAIL_BYTES_PER_CHUNK + 5100
