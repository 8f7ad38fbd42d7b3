"""Deposit addresses the wallet hands out and the withdrawal addresses it accepts, per chain format.

The formats are the real ones (checksums included), so the addresses a user gets from the simulator pass
the user's own validation libraries, and a withdrawal to a mistyped address fails as it would on a chain.
Deposit addresses are derived from a seed only: no keys exist, nothing here can sign or spend.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

ADDRESS_FORMATS = frozenset({"evm", "tron", "bitcoin-bech32", "xrp", "solana", "cardano"})

# Longer than any supported address (a Cardano base address is 103 characters); bounds the quadratic
# base58 arithmetic on hostile input.
_MAX_ADDRESS_LENGTH = 128


# --- keccak-256 (the pre-standard padding Ethereum uses; hashlib's sha3_256 pads differently) ---

_MASK64 = (1 << 64) - 1
_RATE_BYTES = 136  # 1600-bit state minus 2 x 256 bits of capacity
# Rotation offsets of the rho step, lane (x, y) at index x + 5y.
_ROTATIONS = (0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14)


def _iota_constants() -> tuple[int, ...]:
    """The 24 round constants of the iota step, from the spec's LFSR (FIPS 202, algorithm 5)."""
    constants, lfsr = [], 1
    for _ in range(24):
        constant = 0
        for j in range(7):
            lfsr = ((lfsr << 1) ^ ((lfsr >> 7) * 0x71)) % 256
            if lfsr & 2:
                constant |= 1 << ((1 << j) - 1)
        constants.append(constant)
    return tuple(constants)


_IOTA_CONSTANTS = _iota_constants()


def _rotl64(lane: int, shift: int) -> int:
    return ((lane << shift) | (lane >> (64 - shift))) & _MASK64


def _keccak_f1600(state: list[int]) -> list[int]:
    for round_constant in _IOTA_CONSTANTS:
        parities = [state[x] ^ state[x + 5] ^ state[x + 10] ^ state[x + 15] ^ state[x + 20] for x in range(5)]
        theta = [parities[(x - 1) % 5] ^ _rotl64(parities[(x + 1) % 5], 1) for x in range(5)]
        state = [lane ^ theta[i % 5] for i, lane in enumerate(state)]
        moved = [0] * 25  # rho and pi: lane (x, y) rotates and moves to (y, 2x + 3y)
        for x in range(5):
            for y in range(5):
                moved[y + 5 * ((2 * x + 3 * y) % 5)] = _rotl64(state[x + 5 * y], _ROTATIONS[x + 5 * y])
        # chi: each lane mixes with the next two of its row
        state = [
            moved[i] ^ (~moved[(i + 1) % 5 + i - i % 5] & moved[(i + 2) % 5 + i - i % 5]) for i in range(25)
        ]
        state[0] ^= round_constant
    return state


def _sponge256(data: bytes, padding_byte: int) -> bytes:
    """Keccak sponge, capacity 512, 256-bit output; padding 0x01 gives Keccak-256, 0x06 SHA3-256."""
    padded = bytearray(data) + bytes([padding_byte]) + bytes(-(len(data) + 1) % _RATE_BYTES)
    padded[-1] |= 0x80
    state = [0] * 25
    for start in range(0, len(padded), _RATE_BYTES):
        block = padded[start : start + _RATE_BYTES]
        for i in range(_RATE_BYTES // 8):
            state[i] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        state = _keccak_f1600(state)
    return b"".join(lane.to_bytes(8, "little") for lane in state[:4])


def keccak256(data: bytes) -> bytes:
    return _sponge256(data, 0x01)


# --- base58 and base58check, for any 58-letter alphabet ---

_BITCOIN_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_RIPPLE_ALPHABET = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"


def _base58_encode(data: bytes, alphabet: str) -> str:
    number, digits = int.from_bytes(data, "big"), []
    while number:
        number, digit = divmod(number, 58)
        digits.append(alphabet[digit])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))  # each leading zero byte is one "zero" letter
    return alphabet[0] * leading_zeros + "".join(reversed(digits))


def _base58_decode(text: str, alphabet: str) -> bytes | None:
    number = 0
    for letter in text:
        digit = alphabet.find(letter)
        if digit < 0:
            return None
        number = number * 58 + digit
    leading_zeros = len(text) - len(text.lstrip(alphabet[0]))
    return bytes(leading_zeros) + number.to_bytes((number.bit_length() + 7) // 8, "big")


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def _base58check_encode(payload: bytes, alphabet: str) -> str:
    return _base58_encode(payload + _checksum(payload), alphabet)


def _base58check_decode(text: str, alphabet: str) -> bytes | None:
    """The payload, or None when a letter is foreign or the 4-byte double-SHA256 checksum is wrong."""
    data = _base58_decode(text, alphabet)
    if data is None or len(data) < 5 or _checksum(data[:-4]) != data[-4:]:
        return None
    return data[:-4]


# --- bech32 (BIP-173) and bech32m (BIP-350) ---

_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32, _BECH32M = 1, 0x2BC830A3  # what the checksum polymod must leave


def _polymod(values: list[int]) -> int:
    generators = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(generators):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _bech32_encode(hrp: str, words: list[int], constant: int = _BECH32) -> str:
    polymod = _polymod(_hrp_expand(hrp) + words + [0] * 6) ^ constant
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32_CHARSET[word] for word in words + checksum)


def _bech32_decode(text: str, max_length: int | None) -> tuple[str, list[int], int] | None:
    """(hrp, 5-bit words without the checksum, bech32 or bech32m constant), or None if malformed."""
    if any(not 33 <= ord(c) <= 126 for c in text) or text not in (text.lower(), text.upper()):
        return None
    text = text.lower()
    separator = text.rfind("1")
    if separator < 1 or separator + 7 > len(text) or (max_length and len(text) > max_length):
        return None
    if any(c not in _BECH32_CHARSET for c in text[separator + 1 :]):
        return None
    hrp, words = text[:separator], [_BECH32_CHARSET.index(c) for c in text[separator + 1 :]]
    constant = _polymod(_hrp_expand(hrp) + words)
    if constant not in (_BECH32, _BECH32M):
        return None
    return hrp, words[:-6], constant


def _to_words(data: bytes) -> list[int]:
    """Bytes as 5-bit words, the last one padded with zero bits."""
    padding = -len(data) * 8 % 5
    number = int.from_bytes(data, "big") << padding
    return [(number >> shift) & 31 for shift in range(len(data) * 8 + padding - 5, -1, -5)]


def _from_words(words: list[int]) -> bytes | None:
    """The bytes 5-bit words carry, or None unless the padding is at most 4 zero bits (BIP-173)."""
    number = 0
    for word in words:
        number = number << 5 | word
    padding = len(words) * 5 % 8
    if padding > 4 or number & ((1 << padding) - 1):
        return None
    return (number >> padding).to_bytes(len(words) * 5 // 8, "big")


# --- the formats ---


def _eip55(hex40: str) -> str:
    """0x + the address with EIP-55's checksum casing: a letter is upper case where keccak's nibble >= 8."""
    lower = hex40.lower()
    nibbles = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(n, 16) >= 8 else c for c, n in zip(lower, nibbles, strict=False))


def _is_valid_evm(address: str) -> bool:
    body = address[2:]
    if not address.startswith("0x") or len(body) != 40 or not set(body) <= set("0123456789abcdefABCDEF"):
        return False
    return body in (body.lower(), body.upper()) or address == _eip55(body)


def _is_valid_tron(address: str) -> bool:
    payload = _base58check_decode(address, _BITCOIN_ALPHABET)
    return payload is not None and len(payload) == 21 and payload[0] == 0x41


def _is_valid_xrp(address: str) -> bool:
    payload = _base58check_decode(address, _RIPPLE_ALPHABET)
    return payload is not None and len(payload) == 21 and payload[0] == 0x00


def _is_valid_segwit(address: str) -> bool:
    decoded = _bech32_decode(address, max_length=90)
    if decoded is None or decoded[0] != "bc" or not decoded[1]:
        return False
    _, words, constant = decoded
    version, program = words[0], _from_words(words[1:])
    if version > 16 or program is None or not 2 <= len(program) <= 40:
        return False
    if version == 0:  # P2WPKH or P2WSH, still bech32
        return constant == _BECH32 and len(program) in (20, 32)
    return constant == _BECH32M


def _is_valid_bitcoin(address: str) -> bool:
    if address[:3].lower() == "bc1":
        return _is_valid_segwit(address)
    payload = _base58check_decode(address, _BITCOIN_ALPHABET)  # legacy P2PKH "1..." or P2SH "3..."
    return payload is not None and len(payload) == 21 and payload[0] in (0x00, 0x05)


def _is_valid_solana(address: str) -> bool:
    public_key = _base58_decode(address, _BITCOIN_ALPHABET)
    return public_key is not None and len(public_key) == 32


def _is_valid_cardano(address: str) -> bool:
    decoded = _bech32_decode(address, max_length=None)  # CIP-19 lifts BIP-173's 90-character limit
    if decoded is None or decoded[0] != "addr" or decoded[2] != _BECH32:
        return False
    payload = _from_words(decoded[1])
    if payload is None or not 29 <= len(payload) <= 57:
        return False
    kind, network = payload[0] >> 4, payload[0] & 0x0F
    if network != 1:  # "addr" is mainnet; testnets use "addr_test"
        return False
    if kind <= 3:  # base: payment and stake credentials, 28 bytes each
        return len(payload) == 57
    if kind in (6, 7):  # enterprise: payment credential only
        return len(payload) == 29
    return kind in (4, 5)  # pointer: credential + variable-length chain pointer


def _derive(seed: bytes, size: int) -> bytes:
    return hashlib.shake_256(seed).digest(size)


_GENERATORS: dict[str, Callable[[bytes], str]] = {
    "evm": lambda seed: _eip55(_derive(seed, 20).hex()),
    "tron": lambda seed: _base58check_encode(b"\x41" + _derive(seed, 20), _BITCOIN_ALPHABET),
    "bitcoin-bech32": lambda seed: _bech32_encode("bc", [0] + _to_words(_derive(seed, 20))),
    "xrp": lambda seed: _base58check_encode(b"\x00" + _derive(seed, 20), _RIPPLE_ALPHABET),
    "solana": lambda seed: _base58_encode(_derive(seed, 32), _BITCOIN_ALPHABET),
    "cardano": lambda seed: _bech32_encode("addr", _to_words(b"\x01" + _derive(seed, 56))),
}

_VALIDATORS: dict[str, Callable[[str], bool]] = {
    "evm": _is_valid_evm,
    "tron": _is_valid_tron,
    "bitcoin-bech32": _is_valid_bitcoin,
    "xrp": _is_valid_xrp,
    "solana": _is_valid_solana,
    "cardano": _is_valid_cardano,
}


def deposit_address(address_format: str, seed: bytes) -> str:
    """A deterministic, valid address of the format derived from `seed` (the caller passes e.g.
    sha256(f"{account_id}:{coin}:{chain}")): same seed, same address; different seeds, different addresses."""
    if address_format not in _GENERATORS:
        raise ValueError(f"unknown address format {address_format!r}")
    return _GENERATORS[address_format](seed)


def is_valid_address(address_format: str, address: str) -> bool:
    """Whether `address` is a well-formed address of the format (checksums verified where it has one)."""
    validator = _VALIDATORS.get(address_format)
    if validator is None or not isinstance(address, str) or not 0 < len(address) <= _MAX_ADDRESS_LENGTH:
        return False
    return validator(address)
