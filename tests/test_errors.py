"""One list of error codes: the enum the code raises with, the README's list, the adapters' exceptions."""

import re
from pathlib import Path

from streams.errors import DupstreamError, ErrorCode, as_error

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_lists_exactly_the_error_codes():
    listed = re.search(r"^Error codes: (.*?)\. ", README.read_text(), re.MULTILINE | re.DOTALL)
    assert listed, "the README's 'Error codes:' paragraph is gone"
    assert re.findall(r"`([a-z_]+)`", listed.group(1)) == [code.value for code in ErrorCode]


def test_every_adapters_exception_is_a_dupstream_error_with_a_known_code():
    from streams.audio import FingerprintFormatError
    from streams.index import IndexError_
    from streams.kafka import KafkaError
    from streams.media.uri import FetchTimeout, MediaForbidden, MediaNotFound, MediaTooLarge

    for kind in (FingerprintFormatError, IndexError_, KafkaError, FetchTimeout, MediaForbidden, MediaNotFound,
                 MediaTooLarge):
        error = kind("what went wrong")
        assert isinstance(error, DupstreamError) and isinstance(error.code, ErrorCode)
    assert as_error(ValueError("x")).code == ErrorCode.INTERNAL_ERROR
    assert DupstreamError("x", code=ErrorCode.MEDIA_EMPTY).code == "media_empty"
