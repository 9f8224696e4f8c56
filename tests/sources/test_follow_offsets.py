"""Where follow mode carries on in a blob read by byte range: right after the last complete record."""

from __future__ import annotations

import pytest

from flowkit.sources.follow import _records_end, _tail_start


@pytest.mark.parametrize("data, last", [
    (b'{"records":[{"a":1},{"a":2}]}', b'{"a":2}'),
    (b'{"records":[{"a":1},{"a":2},]}', b'{"a":2}'),             # a trailing comma is left out
    (b'{"records":[{"a":1},{"a":2} , \r\n ]}\r\n', b'{"a":2}'),  # and the blanks around it
    (b'{"records":[\n  {"a":1}\n]}', b'{"a":1}'),
])
def test_the_offset_is_right_after_the_last_complete_record(data: bytes, last: bytes) -> None:
    end = _records_end(data, _tail_start(data))
    assert end is not None and data[:end].endswith(last)


def test_no_tail_no_offset() -> None:
    assert _records_end(b'{"records":[{"a":1}', _tail_start(b'{"records":[{"a":1}')) is None
