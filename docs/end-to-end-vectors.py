"""Writes end-to-end-vectors.json: the steps of docs/end-to-end.md computed with Python's hashlib
and the `cryptography` package, independently of burnbox's Rust and JavaScript code, which the
tests check against the file. Run: python3 docs/end-to-end-vectors.py > docs/end-to-end-vectors.json
"""
import base64
import hashlib
import hmac
import json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def hkdf(ikm: bytes, info: str) -> bytes:
    prk = hmac.new(bytes(32), ikm, hashlib.sha256).digest()
    return hmac.new(prk, info.encode() + b"\x01", hashlib.sha256).digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


key = bytes(range(32))
passphrase = "correct horse"
salt = hkdf(key, "burnbox e2e v1 passphrase salt")[:16]
stretched = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, 600_000, 32)
proof = b64url(hkdf(stretched, "burnbox e2e v1 server passphrase"))
ikm = key + stretched
text_key = hkdf(ikm, "burnbox e2e v1 text key")
file_key = hkdf(ikm, "burnbox e2e v1 file key")

text = "The end-to-end text \u2713"
iv = bytes([0xA0 + i for i in range(12)])
ciphertext = AESGCM(text_key).encrypt(iv, text.encode(), b"burnbox e2e v1 text")

name, content_type = "note.txt", "text/plain"
body = bytes((i * 7) % 256 for i in range(70_000))
stream = (
    len(name).to_bytes(2, "big") + name.encode()
    + len(content_type).to_bytes(2, "big") + content_type.encode() + body
)
prefix = bytes([0x51 + i for i in range(7)])
header = b"BBE2EF01" + prefix
chunks = [stream[i:i + 65536] for i in range(0, len(stream), 65536)] or [b""]
sealed = header
for index, chunk in enumerate(chunks):
    last = index == len(chunks) - 1
    nonce = prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")
    sealed += AESGCM(file_key).encrypt(nonce, chunk, header)

print(json.dumps({
    "format": "burnbox end-to-end, version 1 (docs/end-to-end.md)",
    "key": b64url(key),
    "fragment": "key=" + b64url(key),
    "passphrase": passphrase,
    "passphraseSalt": b64(salt),
    "stretched": b64(stretched),
    "serverPassphrase": proof,
    "textKey": b64(text_key),
    "fileKey": b64(file_key),
    "textKeyWithoutPassphrase": b64(hkdf(key, "burnbox e2e v1 text key")),
    "text": text,
    "textIv": b64(iv),
    "textCiphertext": b64(ciphertext),
    "file": {
        "name": name,
        "type": content_type,
        "bytes": "byte i is (7 * i) mod 256, for i in 0..70000",
        "prefix": b64(prefix),
        "encryptedLength": len(sealed),
        "encryptedSha256": hashlib.sha256(sealed).hexdigest(),
        "firstChunkTag": b64(sealed[15 + 65536:15 + 65536 + 16]),
    },
}, indent=2, ensure_ascii=False))
