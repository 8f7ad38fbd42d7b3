"""Deposit addresses and withdrawal-address validation: real formats, real checksums, real addresses."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from simulator.domain.addresses import ADDRESS_FORMATS, deposit_address, is_valid_address, keccak256

COINS_JSON = Path(__file__).resolve().parents[2] / "fixtures" / "coins.json"

# Addresses in use on the chains, or test vectors from the format's specification.
KNOWN_VALID = {
    "evm": [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # EIP-55 examples
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        "0x52908400098527886E0F7030069857D2E4169EE7",  # all upper case
        "0xde709f2102306220921060314715629080e2fb77",  # all lower case
    ],
    "tron": ["TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"],  # USDT contract
    "bitcoin-bech32": [
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",  # BIP-173/350: v0, upper case
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",  # BIP-350: v1
        "BC1SW50QGDZ25J",  # BIP-350: v16, 2-byte program
        "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",  # BIP-350: v2
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",  # taproot
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # legacy P2PKH (genesis block)
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # legacy P2SH
    ],
    "xrp": [
        "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh",  # genesis account
        "rrrrrrrrrrrrrrrrrrrrrhoLvTp",  # ACCOUNT_ZERO: 20 zero bytes, 27 characters
        "rrrrrrrrrrrrrrrrrrrrBZbvji",  # ACCOUNT_ONE
    ],
    "solana": [
        "So11111111111111111111111111111111111111112",  # wrapped SOL mint
        "11111111111111111111111111111111",  # system program: 32 zero bytes
        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",  # SPL token program
    ],
    "cardano": [
        # CIP-19 test vectors: base, pointer and enterprise (key hash) addresses, then an enterprise script
        "addr1qx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzer3n0d3vllmyqwsx5wktcd8cc3sq835lu7drv2xwl2wywfgse35a3x",
        "addr1gx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzer5pnz75xxcrzqf96k",
        "addr1vx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzers66hrl8",
        "addr1w8phkx6acpnf78fuvxn0mkew3l0fd058hzquvz7w36x4gtcyjy7wx",
    ],
}

KNOWN_INVALID = {
    "evm": [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",  # EIP-55 casing broken in the last letter
        "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # ... and in the first
        "0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",  # prefix must be "0x"
        "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # no prefix
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",  # 39 digits
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed0",  # 41 digits
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",  # not hex
        "0x５aaeb6053f3e94c9b9a09f33669435e7ef1beaed",  # full-width digit: int() would take it, we do not
        " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        "0x",
    ],
    "tron": [
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T",  # checksum broken
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6",  # one character short
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6tt",
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj0t",  # 0 is not base58
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # valid base58check, but version 0x00
        "T",
    ],
    "bitcoin-bech32": [
        # BIP-350 invalid vectors
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # v1 with a bech32 checksum
        "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",  # v16 with a bech32 checksum
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # v0 with a bech32m checksum
        "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",  # "o" is not in the charset
        "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",  # witness version 17
        "bc1pw5dgrnzv",  # 1-byte program
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",  # 41-byte program
        "bc1qr508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # 16-byte v0 program
        "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",  # 7 bits of padding (and a bech32 checksum on v2)
        "bc1gmk9yu",  # empty data part
        "bc1Qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # mixed case
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # checksum broken
        "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",  # testnet
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",  # legacy, checksum broken
        "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",  # legacy testnet (version 0x6f)
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",  # valid base58check, but version 0x41
    ],
    "xrp": [
        "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTH",  # checksum broken
        "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyT",
        "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh0",  # 0 is not in the Ripple alphabet
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # bitcoin alphabet
        "XVLhHMPHU98es4dbozjVtdWzVrDjtV18pX8yuPT7y4xaEHi",  # X-address: a different encoding
    ],
    "solana": [
        "So1111111111111111111111111111111111111111",  # 31 bytes
        "So111111111111111111111111111111111111111112",  # 33 bytes
        "1111111111111111111111111111111",  # 31 zero bytes
        "So11111111111111111111111111111111111111110",  # 0 is not base58
        "Sol1111111111111111111111111111111111111112",  # nor l
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    ],
    "cardano": [
        "addr1qx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzer3n0d3vllmyqwsx5wktcd8cc3sq835lu7drv2xwl2wywfgse35a3y",
        "addr1qx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzer3n0d3vllmyqwsx5wktcd8cc3sq835lu7drv2xwl2wywfgsE35a3x",
        # testnet (CIP-19) and a stake (reward) address: other human-readable parts
        "addr_test1qz2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzer3n0d3vllmyqwsx5wktcd8cc3sq835lu7drv2xwl2wywfgs68faae",
        "stake1uyehkck0lajq8gr28t9uxnuvgcqrc6070x3k9r8048z8y5gh6ffgw",
        "addr1",
    ],
}

GENERATED_SHAPE = {  # format: (prefix, allowed lengths)
    "evm": ("0x", {42}),
    "tron": ("T", {34}),
    "bitcoin-bech32": ("bc1q", {42}),
    "xrp": ("r", set(range(25, 36))),
    "solana": ("", set(range(32, 45))),
    "cardano": ("addr1q", {103}),
}

NOT_STRINGS_OR_EMPTY = ["", " ", "\n", "é", "\x00", None, b"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"]


def seed(account_id: int, coin: str, chain: str) -> bytes:
    return hashlib.sha256(f"{account_id}:{coin}:{chain}".encode()).digest()


def swap_letter(address: str, position: int, alphabet: str) -> str:
    """The address with one letter replaced by the next one of its alphabet."""
    replacement = alphabet[(alphabet.index(address[position]) + 1) % len(alphabet)]
    return address[:position] + replacement + address[position + 1 :]


def test_the_six_formats():
    assert ADDRESS_FORMATS == {"evm", "tron", "bitcoin-bech32", "xrp", "solana", "cardano"}


def test_every_chain_in_the_coin_fixtures_has_a_supported_format():
    coins = json.loads(COINS_JSON.read_text())

    formats = {chain["addressFormat"] for coin in coins for chain in coin["chainTypes"]}

    assert formats <= ADDRESS_FORMATS


def test_keccak256_vectors():
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"


def test_the_keccak_sponge_with_sha3_padding_is_sha3_256_across_block_boundaries():
    # keccak-256 and SHA3-256 differ only in the padding byte, so hashlib checks the permutation and the
    # absorbing of multi-block input (the rate is 136 bytes).
    from simulator.domain.addresses import _sponge256

    for length in (0, 1, 135, 136, 137, 271, 272, 500):
        data = bytes(range(256)) * 2
        assert _sponge256(data[:length], 0x06) == hashlib.sha3_256(data[:length]).digest()


@pytest.mark.parametrize("address_format", sorted(ADDRESS_FORMATS))
def test_deposit_addresses_are_valid_deterministic_and_distinct(address_format):
    seeds = [seed(account_id, "USDT", address_format) for account_id in range(40)]

    addresses = [deposit_address(address_format, s) for s in seeds]

    assert all(is_valid_address(address_format, address) for address in addresses)
    assert addresses == [deposit_address(address_format, s) for s in seeds]
    assert len(set(addresses)) == len(seeds)
    prefix, lengths = GENERATED_SHAPE[address_format]
    assert all(address.startswith(prefix) and len(address) in lengths for address in addresses)


def test_deposit_addresses_are_stable_across_releases():
    # Users keep their deposit addresses: a change in derivation would move them.
    assert deposit_address("evm", b"x") == "0xC851121ABE8095973c9BdC1b446089f3249cF74E"
    assert deposit_address("tron", b"x") == "TUEPGKNKrbbJRTQZf18au12vPgqGvqAQzi"
    assert deposit_address("bitcoin-bech32", b"x") == "bc1qepg3yx47sz2ew0ymmsd5gcyf7vjfea6w296082"
    assert deposit_address("xrp", b"x") == "rKGBGEzb617MGHLAhj714iL87unxmRFnTY"
    assert deposit_address("solana", b"x") == "EUxErgvDfxnSkgLvg78kNnDLvF9cSJgEsois6C8JWsPJ"
    assert deposit_address("cardano", b"x") == (
        "addr1q8y9zys6h6qft9eun0wpk3rq38ejf88hfc9kgestv8tnhjhqx5856kw8etxyvnznyky8jjhav5adphwu49cc4zs7zlcsrh9e7g"
    )


def test_evm_deposit_addresses_carry_the_eip55_checksum():
    addresses = [deposit_address("evm", seed(n, "ETH", "ETH")) for n in range(20)]

    for address in addresses:
        body = address[2:]
        assert body not in (body.lower(), body.upper())
        assert is_valid_address("evm", address.lower()) and is_valid_address("evm", "0x" + body.upper())
        first_letter = next(i for i, c in enumerate(address) if i >= 2 and c.isalpha())
        flipped = address[:first_letter] + address[first_letter].swapcase() + address[first_letter + 1 :]
        assert not is_valid_address("evm", flipped)


@pytest.mark.parametrize(
    ("address_format", "address"), [(f, a) for f, addresses in KNOWN_VALID.items() for a in addresses]
)
def test_real_addresses_are_valid(address_format, address):
    assert is_valid_address(address_format, address)


@pytest.mark.parametrize(
    ("address_format", "address"), [(f, a) for f, addresses in KNOWN_INVALID.items() for a in addresses]
)
def test_malformed_addresses_are_rejected(address_format, address):
    assert not is_valid_address(address_format, address)


BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
RIPPLE = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


@pytest.mark.parametrize(
    ("address_format", "address", "alphabet", "start"),  # bech32: start after the "1" separator
    [
        ("tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", BASE58, 0),
        ("xrp", "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh", RIPPLE, 0),
        ("bitcoin-bech32", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", BASE58, 0),
        ("bitcoin-bech32", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", BECH32, 3),
        ("cardano", KNOWN_VALID["cardano"][0], BECH32, 5),
    ],
)
def test_any_one_mistyped_character_is_caught_by_the_checksum(address_format, address, alphabet, start):
    for position in range(start, len(address)):
        assert not is_valid_address(address_format, swap_letter(address, position, alphabet)), position


@pytest.mark.parametrize("address_format", sorted(ADDRESS_FORMATS))
@pytest.mark.parametrize("address", NOT_STRINGS_OR_EMPTY)
def test_empty_blank_non_ascii_and_non_string_input_is_rejected(address_format, address):
    assert not is_valid_address(address_format, address)


@pytest.mark.parametrize("address_format", sorted(ADDRESS_FORMATS))
def test_non_ascii_lookalikes_are_rejected(address_format):
    address = deposit_address(address_format, b"lookalike")
    lookalike = address.translate(str.maketrans("aeopcxyABEHKMOPCTX", "аеорсхуАВЕНКМОРСТХ"))  # Cyrillic

    assert lookalike != address
    assert not is_valid_address(address_format, lookalike)
    assert not is_valid_address(address_format, address + "é")


@pytest.mark.parametrize("address_format", sorted(ADDRESS_FORMATS))
def test_huge_input_is_rejected(address_format):
    assert not is_valid_address(address_format, "1" * 100_000)


@pytest.mark.parametrize(
    ("address_format", "other_format"),
    [(one, other) for one in sorted(ADDRESS_FORMATS) for other in sorted(ADDRESS_FORMATS) if one != other],
)
def test_an_address_of_one_format_is_not_valid_for_another(address_format, other_format):
    samples = KNOWN_VALID[other_format] + [deposit_address(other_format, seed(n, "X", "Y")) for n in range(9)]

    assert not any(is_valid_address(address_format, sample) for sample in samples)


def cardano_address(payload: bytes, bech32m: bool = False) -> str:
    """A correctly checksummed "addr" string around any payload, through the module's own encoder."""
    from simulator.domain.addresses import _BECH32, _BECH32M, _bech32_encode, _to_words

    return _bech32_encode("addr", _to_words(payload), _BECH32M if bech32m else _BECH32)


@pytest.mark.parametrize(
    ("payload", "bech32m", "valid"),
    [
        (b"\x01" + bytes(56), False, True),  # base address
        (b"\x61" + bytes(28), False, True),  # enterprise address
        (b"\x41" + bytes(31), False, True),  # pointer address, shortest pointer
        (b"\x01" + bytes(56), True, False),  # bech32m checksum
        (b"\x00" + bytes(56), False, False),  # testnet network id under the mainnet "addr"
        (b"\x01" + bytes(28), False, False),  # base address without its stake credential
        (b"\x61" + bytes(56), False, False),  # enterprise address with one
        (b"\xe1" + bytes(28), False, False),  # stake-address header
        (b"\x41" + bytes(57), False, False),  # longer than any Shelley payment address
    ],
)
def test_cardano_headers_and_lengths(payload, bech32m, valid):
    assert is_valid_address("cardano", cardano_address(payload, bech32m)) is valid


def test_segwit_padding_is_at_most_four_zero_bits():
    from simulator.domain.addresses import _BECH32, _BECH32M, _bech32_encode, _to_words

    words = [0] + _to_words(bytes(32))  # 256 bits: 4 bits of padding in the last word
    assert is_valid_address("bitcoin-bech32", _bech32_encode("bc", words, _BECH32))
    assert not is_valid_address("bitcoin-bech32", _bech32_encode("bc", words[:-1] + [1], _BECH32))
    words = [1] + _to_words(bytes(16))  # 130 bits: 2 bits of padding; one more zero word makes 7
    assert is_valid_address("bitcoin-bech32", _bech32_encode("bc", words, _BECH32M))
    assert not is_valid_address("bitcoin-bech32", _bech32_encode("bc", words + [0], _BECH32M))


def test_xrp_version_byte_must_be_zero():
    from simulator.domain.addresses import _RIPPLE_ALPHABET, _base58check_encode

    assert is_valid_address("xrp", _base58check_encode(b"\x00" + bytes(20), _RIPPLE_ALPHABET))
    assert not is_valid_address("xrp", _base58check_encode(b"\x01" + bytes(20), _RIPPLE_ALPHABET))


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown address format"):
        deposit_address("dogecoin", b"seed")
    assert not is_valid_address("dogecoin", "DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L")
    assert not is_valid_address("EVM", "0xde709f2102306220921060314715629080e2fb77")
