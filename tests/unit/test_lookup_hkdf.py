"""The lookup index's ids and keys: HKDF-SHA256 by hmac.digest equals the cryptography
library's HKDF (what docs/lookup.md specifies and the browser's WebCrypto computes)."""

from __future__ import annotations

import os

from site_builder import lookup_index as li


def test_fast_hkdf_is_rfc5869_hkdf() -> None:
    for _ in range(50):
        slow, salt = os.urandom(32), os.urandom(li.BUILD_SALT_BYTES)
        assert li.entry_id(slow, salt) == li.hkdf(slow, li.ID_INFO, li.ID_BYTES, salt)
        assert li.entry_key(slow, salt) == li.hkdf(slow, li.KEY_INFO, 32, salt)
    assert li.entry_id(b"\0" * 32, b"\0" * 16) != li.entry_id(b"\0" * 32, b"\1" * 16)


def test_rfc5869_case_1_first_block() -> None:
    """RFC 5869 appendix A.1 (IKM 22 × 0x0b, salt 0x00..0x0c, info 0xf0..0xf9): our one-block
    expansion gives the first 32 bytes of the published OKM."""
    ikm, salt, info = bytes([0x0B] * 22), bytes(range(13)), bytes(range(0xF0, 0xFA))
    okm = bytes.fromhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf")
    assert li._expand(ikm, salt, info, 32) == okm
