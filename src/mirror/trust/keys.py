"""Ed25519 keys: generate, encrypt at rest, sign and check minisign signatures.

Example::

    secret = SecretKey.generate()
    sealed = secret.seal(b"correct horse")         # scrypt + ChaCha20-Poly1305
    sig = secret.sign(b"data", "bundle:x\\tversion:1\\trole:author")
    check_signature(secret.public, sig, b"data")  # raises SignatureError if wrong

The only module that imports `cryptography`. Fingerprints for people are in fingerprint.py.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mirror.errors import KeyringError, SignatureError, WrongPassphrase
from mirror.formats.minisign import Prehashed, PublicKeyFile, Signature, key_id_hex, prehash
from mirror.record import record

SECRET_FORMAT = "mirror-secret-key/1"  # noqa: S105 - a format name
SCRYPT_N = 2**17  # 128 MiB and about half a second: costly to guess on a seized laptop
MAX_SCRYPT_N = 2 * SCRYPT_N  # the largest a key file may ask for (a later version's, not a planted 1 GiB)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# Serialization, ciphers and scrypt are imported where a secret key is made or opened: checking a
# signature needs none of them, and they would double a tiny verify's start-up.

_PR_SET_DUMPABLE = 4  # prctl(2)


@functools.cache  # once a process is enough
def keep_secrets_out_of_dumps() -> None:
    """From now on this process leaves no core file (a crash while a secret key or a passphrase is in memory wrote
    them to the working folder, perhaps the USB stick, or to the system's crash store), and on Linux it is not
    dumpable: no core even through a crash handler, and no other program of the same user can read its memory
    (ptrace, /proc/PID/mem) without root's powers. Called before a passphrase is asked for or a secret key is
    made or opened. Where the system refuses either, nothing else changes."""
    import contextlib
    import sys

    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        # the soft limit, which is what a crash looks at: a hard one of 0 could never be raised again by this
        # process or its children (a test runner that opens keys in its own process)
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _derive(passphrase: bytes, salt: bytes, n: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase)


@record
class SecretKey:
    """An unlocked Ed25519 secret key (kept in memory only)."""

    key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SecretKey:
        """A fresh random key."""
        keep_secrets_out_of_dumps()
        return cls(Ed25519PrivateKey.generate())

    @property
    def public(self) -> PublicKeyFile:
        """The matching public key, with its id."""
        from cryptography.hazmat.primitives import serialization

        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PublicKeyFile.from_key(raw)

    def seal(self, passphrase: bytes | None) -> bytes:
        """The secret key file: scrypt + ChaCha20-Poly1305 when a passphrase is given.

        The public key is bound as associated data, so a file whose halves were
        swapped does not open.
        """
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

        seed = self.key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        doc: dict[str, object] = {"format": SECRET_FORMAT, "public_key": self.public.key_line}
        if passphrase is None:
            doc |= {"kdf": "none", "secret": _b64(seed)}
        else:
            salt, nonce = os.urandom(16), os.urandom(12)
            box = ChaCha20Poly1305(_derive(passphrase, salt, SCRYPT_N))
            sealed = box.encrypt(nonce, seed, self.public.key_line.encode())
            doc |= {"kdf": "scrypt", "n": SCRYPT_N, "r": 8, "p": 1, "salt": _b64(salt),
                    "nonce": _b64(nonce), "ciphertext": _b64(sealed)}
        return (json.dumps(doc, indent=1) + "\n").encode()

    @staticmethod
    def is_encrypted(raw: bytes) -> bool:
        """Whether a secret key file needs a passphrase: its parsed "kdf" is not "none" (a byte search took a key
        written without spaces for an encrypted one, which then opened with any passphrase). A file that cannot be
        read counts as encrypted: unseal says what is wrong with it."""
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes ([[[[...)
            return True
        return not (isinstance(doc, dict) and doc.get("kdf") == "none")

    @staticmethod
    def check_sealed(raw: bytes, name: str) -> str:
        """The public key line a secret key file names, once what can be checked of it without its passphrase is:
        its format, its key derivation and scrypt settings, and that its fields are there and decode. `unseal`
        begins with it, and a dry run checks it (helper-167: a damaged file was found only when it was unlocked, and
        asked for a passphrase first).

        Raises:
            KeyringError: an unknown format or key derivation, unsupported scrypt settings, or a damaged file.
        """
        try:
            doc = json.loads(raw)
            if doc["format"] != SECRET_FORMAT:
                raise KeyringError(f"secret key {name} has an unknown format")
            line = doc["public_key"]
            if not isinstance(line, str):
                raise TypeError(line)
            if doc["kdf"] == "none":
                base64.b64decode(doc["secret"], validate=True)
            elif doc["kdf"] == "scrypt":
                n, r, p = doc["n"], doc["r"], doc["p"]
                # exact integers (True is 1, and 8.0 is 8, to Python), a power of two no larger than twice ours:
                # another cost is a damaged or planted file, and 2^20 took 1 GiB (helper-161: -2 was an
                # internal error, an OverflowError)
                if not all(type(value) is int for value in (n, r, p)) or (r, p) != (8, 1) \
                        or not 2 <= n <= MAX_SCRYPT_N or n & (n - 1):
                    raise KeyringError(f"secret key {name} has unsupported scrypt settings")
                for sealed in ("salt", "nonce", "ciphertext"):
                    base64.b64decode(doc[sealed], validate=True)
            else:
                raise KeyringError(f"secret key {name} uses an unknown key derivation")
        except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):  # [[[[... deeper than json goes
            raise KeyringError(f"secret key {name} is damaged or not a mirror secret key") from None
        return line

    @classmethod
    def unseal(cls, raw: bytes, passphrase: bytes | None, name: str) -> SecretKey:
        """Open a secret key file written by `seal`.

        Raises:
            KeyringError: wrong or missing passphrase, or a damaged file.
        """
        from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

        keep_secrets_out_of_dumps()
        aad = SecretKey.check_sealed(raw, name).encode()
        try:
            doc = json.loads(raw)
            if doc["kdf"] == "none":
                seed = base64.b64decode(doc["secret"], validate=True)
            else:  # scrypt: check_sealed lets no other through
                if passphrase is None:
                    raise KeyringError(f"secret key {name} is encrypted and no passphrase was given",
                                       hint="type it at the prompt or set MIRROR_PASSPHRASE")
                n = doc["n"]
                try:
                    derived = _derive(passphrase, base64.b64decode(doc["salt"], validate=True), n)
                except MemoryError:
                    raise KeyringError(f"not enough memory to open secret key {name} (scrypt needs "
                                       f"{n * 1024 >> 20} MiB)", hint="close other programs and try again") from None
                box = ChaCha20Poly1305(derived)
                try:
                    seed = box.decrypt(base64.b64decode(doc["nonce"], validate=True),
                                       base64.b64decode(doc["ciphertext"], validate=True), aad)
                except InvalidTag:
                    raise WrongPassphrase(f"wrong passphrase for secret key {name}") from None
            key = cls(Ed25519PrivateKey.from_private_bytes(seed))
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise KeyringError(f"secret key {name} is damaged or not a mirror secret key") from None
        if key.public.key_line.encode() != aad:
            raise KeyringError(f"secret key {name} does not match its public key")
        return key

    def sign(self, data: bytes | Prehashed, trusted_comment: str) -> Signature:
        """A prehashed minisign signature over `data` (or the message whose BLAKE2b-512 it is), with a trusted
        comment."""
        if "\n" in trusted_comment or "\r" in trusted_comment:
            raise ValueError("a trusted comment is one line")
        public = self.public
        signature = self.key.sign(prehash(data))
        glob = self.key.sign(signature + trusted_comment.encode())
        return Signature(
            key_id=public.key_id,
            signature=signature,
            trusted_comment=trusted_comment,
            global_signature=glob,
            untrusted_comment=f"signature from mirror secret key {key_id_hex(public.key_id)}",
        )


def check_signature(public: PublicKeyFile, sig: Signature, data: bytes | Prehashed) -> None:
    """Return quietly if `public` made `sig` over `data` (or the message whose BLAKE2b-512 it is), trusted
    comment included.

    Raises:
        SignatureError: the key ids differ, or either signature does not verify.
    """
    if sig.key_id != public.key_id:
        raise SignatureError(
            f"signature was made by key {key_id_hex(sig.key_id)}, not {key_id_hex(public.key_id)}"
        )
    key = Ed25519PublicKey.from_public_bytes(public.public_key)
    try:
        key.verify(sig.signature, prehash(data))
    except InvalidSignature:
        raise SignatureError(f"signature does not match the signed file (key {key_id_hex(sig.key_id)})") from None
    try:
        key.verify(sig.global_signature, sig.signature + sig.trusted_comment.encode())
    except InvalidSignature:
        raise SignatureError("the trusted comment was changed after signing") from None
