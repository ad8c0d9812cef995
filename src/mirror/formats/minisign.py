"""The minisign file formats: public keys and signatures, parsed strictly.

Example::

    pub = PublicKeyFile.from_text(Path("alice.pub").read_text())
    sig = Signature.from_bytes(Path("SHA256SUMS.minisig").read_bytes())
    assert sig.key_id == pub.key_id

Only the prehashed Ed25519 scheme ("ED": BLAKE2b-512 of the message) is written;
legacy "Ed" signatures are refused. Cryptography lives in keys.py; this module
only converts between bytes and values, and checks lengths and layout.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from mirror.errors import KeyringError, SignatureError
from mirror.record import record

KEY_ALG = b"Ed"
SIG_ALG_PREHASHED = b"ED"
KEY_ID_LEN = 8
PUBLIC_KEY_LEN = 32
SIGNATURE_LEN = 64
MAX_SIGNATURE_FILE = 4096
_UNTRUSTED = "untrusted comment: "
_TRUSTED = "trusted comment: "


def key_id_for(public_key: bytes) -> bytes:
    """The 8-byte key id: the first 8 bytes of SHA-256 of the raw public key."""
    return hashlib.sha256(public_key).digest()[:KEY_ID_LEN]


def key_id_hex(key_id: bytes) -> str:
    """A key id as minisign prints it: the bytes read as a little-endian integer, in hex."""
    return f"{int.from_bytes(key_id, 'little'):016X}"


def _b64decode(text: str, what: str, strip: bool = True) -> bytes:
    """`text` as base64; with `strip` False, nothing around it either (a signature's lines, as stock minisign reads
    them: a space after one made mirror say VERIFIED and the by-hand check fail, helper-161)."""
    try:
        return base64.b64decode(text.strip() if strip else text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{what} is not valid base64") from None


def _secret(what: str, secret: bool) -> KeyringError | None:
    """The error for a key file that is no public key but a secret one (nothing of it shown), or None."""
    if not secret:
        return None
    return KeyringError(f"{what} is a secret key, not a public one",
                        hint="import the .pub file beside it; a secret key is never passed on")


@record
class PublicKeyFile:
    """A minisign public key: key id and the raw Ed25519 key."""

    key_id: bytes
    public_key: bytes

    @classmethod
    def from_key(cls, public_key: bytes) -> PublicKeyFile:
        """Wrap a raw 32-byte key, deriving its id."""
        return cls(key_id_for(public_key), public_key)

    def to_text(self) -> str:
        """Two lines, as `minisign -G` writes them."""
        return f"{_UNTRUSTED}minisign public key {key_id_hex(self.key_id)}\n{self.key_line}\n"

    @property
    def key_line(self) -> str:
        """The base64 line alone (what `minisign -P` takes and the QR code holds)."""
        return base64.b64encode(KEY_ALG + self.key_id + self.public_key).decode()

    @classmethod
    def from_text(cls, text: str, what: str = "public key") -> PublicKeyFile:
        """Parse a key file (comment line optional) or a bare base64 key line.

        Raises:
            KeyringError: the text is not a minisign Ed25519 public key.
        """
        text = text.removeprefix("\ufeff")  # saved by Windows Notepad: a byte order mark before the comment
        lines = [line for line in text.splitlines() if line.strip()]
        comment = lines[0] if lines and lines[0].startswith(_UNTRUSTED) else ""
        if comment:
            lines = lines[1:]
        # Only a file that is no public key is said to be a secret one (a public key's comment may name one).
        secret = comment.endswith("secret key") or text.lstrip().startswith(("{", '"mirror-secret-key/'))
        if len(lines) != 1 or len(text) > 1024:
            raise _secret(what, secret) or KeyringError(f"{what} is not a minisign public key")
        try:
            blob = _b64decode(lines[0], what)
        except SignatureError as exc:
            raise _secret(what, secret) or KeyringError(str(exc)) from None
        if len(blob) != 2 + KEY_ID_LEN + PUBLIC_KEY_LEN or blob[:2] != KEY_ALG:
            raise _secret(what, secret) or KeyringError(f"{what} is not a minisign Ed25519 public key")
        return cls(blob[2:10], blob[10:])

    def check_key_id(self, what: str = "public key") -> None:
        """Raise unless the key id is the one this project derives from the key.

        Raises:
            KeyringError: the id does not belong to the key.
        """
        if key_id_for(self.public_key) != self.key_id:
            raise KeyringError(f"{what}: key id {key_id_hex(self.key_id)} does not belong to the key")


@record
class Signature:
    """A parsed .minisig file."""

    key_id: bytes
    signature: bytes
    trusted_comment: str
    global_signature: bytes
    untrusted_comment: str = "signature from mirror secret key"

    def to_bytes(self) -> bytes:
        """Four LF-terminated lines, exactly as minisign writes them."""
        sig = base64.b64encode(SIG_ALG_PREHASHED + self.key_id + self.signature).decode()
        glob = base64.b64encode(self.global_signature).decode()
        text = (
            f"{_UNTRUSTED}{self.untrusted_comment}\n{sig}\n"
            f"{_TRUSTED}{self.trusted_comment}\n{glob}\n"
        )
        return text.encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Signature:
        """Parse a .minisig file strictly: 4 lines, lengths checked.

        Raises:
            SignatureError: anything about the layout is wrong.
        """
        if len(raw) > MAX_SIGNATURE_FILE:
            raise SignatureError("signature file is too large")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SignatureError("signature file is not UTF-8") from None
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) != 4:
            raise SignatureError(f"signature file has {len(lines)} lines, expected 4")
        lines = [line.removesuffix("\r") for line in lines]
        if not lines[0].startswith(_UNTRUSTED) or not lines[2].startswith(_TRUSTED):
            raise SignatureError("signature file lacks its comment lines")
        blob = _b64decode(lines[1], "signature", strip=False)
        if len(blob) != 2 + KEY_ID_LEN + SIGNATURE_LEN:
            raise SignatureError("signature has the wrong length")
        if blob[:2] != SIG_ALG_PREHASHED:
            raise SignatureError("signature is not a prehashed Ed25519 (ED) minisign signature")
        glob = _b64decode(lines[3], "global signature", strip=False)
        if len(glob) != SIGNATURE_LEN:
            raise SignatureError("global signature has the wrong length")
        return cls(
            key_id=blob[2:10],
            signature=blob[10:],
            trusted_comment=lines[2][len(_TRUSTED) :],
            global_signature=glob,
            untrusted_comment=lines[0][len(_UNTRUSTED) :],
        )


@record
class Prehashed:
    """A message given by its BLAKE2b-512, made while it was read (a signed list too large to hold)."""

    digest: bytes


def prehash(data: bytes | Prehashed) -> bytes:
    """BLAKE2b-512 of the message: what a prehashed minisign signature covers."""
    return data.digest if isinstance(data, Prehashed) else hashlib.blake2b(data, digest_size=64).digest()
