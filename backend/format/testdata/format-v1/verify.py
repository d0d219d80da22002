#!/usr/bin/env python3
"""Independent reader of PgSafe backup format v1, written from docs/FORMAT.md alone.

Cross-checks the Go implementation: decrypts a .pgsafe file with a key file and writes
the payload plaintext (still zstd-compressed if the header says so) to stdout.

    python3 verify.py key backup-nocompress.pgsafe | cmp - plain
    python3 verify.py key backup.pgsafe | zstd -d | cmp - plain

Needs the `cryptography` package (Debian: python3-cryptography).
"""
import hashlib
import hmac
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def hkdf(ikm, salt, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt or None, info=info).derive(ikm)


def read_key_file(path):
    lines = open(path, "rb").read().decode("ascii").replace("\r\n", "\n").split("\n")
    assert lines[0].rstrip(" \t") == "PGSAFE-KEY-1", "not a PgSafe key file"
    fields = {}
    for line in lines[1:]:
        line = line.rstrip(" \t")
        if not line or line.startswith("#"):
            continue
        name, value = line.split(": ", 1)
        assert name in ("id", "key") and name not in fields
        fields[name] = value
    key = bytes.fromhex(fields["key"])
    assert len(key) == 32
    assert hkdf(key, None, b"pgsafe/v1/key-id", 8) == bytes.fromhex(fields["id"]), "key ID mismatch"
    return key


def main(key_path, file_path):
    master = read_key_file(key_path)
    data = open(file_path, "rb").read()
    header, mac, payload = data[:70], data[70:102], data[102:]
    assert header[:8] == b"PGSAFE\x1a\n", "not a PgSafe file"
    assert header[8] == 1, "unsupported version"
    compression = header[9]
    (chunk_size,) = struct.unpack(">I", header[10:14])
    backup_id, key_id, salt = header[14:30], header[30:38], header[38:70]
    assert key_id == hkdf(master, None, b"pgsafe/v1/key-id", 8), "wrong key"
    backup_key = hkdf(master, salt, b"pgsafe/v1/backup-key\x00" + backup_id, 32)
    payload_key = hkdf(backup_key, None, b"pgsafe/v1/payload-key", 32)
    mac_key = hkdf(backup_key, None, b"pgsafe/v1/header-mac-key", 32)
    assert hmac.compare_digest(hmac.new(mac_key, header, hashlib.sha256).digest(), mac), "header tampered"
    assert compression in (0, 1) and 65536 <= chunk_size <= 16777216, "invalid header"
    aead = AESGCM(payload_key)
    enc = chunk_size + 16
    out = []
    i = 0
    while True:
        chunk = payload[i * enc:(i + 1) * enc]
        last = (i + 1) * enc >= len(payload)
        nonce = i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        pt = aead.decrypt(nonce, chunk, None)  # raises InvalidTag
        assert not (last and i > 0 and len(pt) == 0), "empty final chunk after a full one"
        out.append(pt)
        if last:
            break
        i += 1
    sys.stdout.buffer.write(b"".join(out))
    print(f"ok: {i + 1} chunks, chunk size {chunk_size}, compression {compression}, "
          f"backup ID {backup_id.hex()}, key ID {key_id.hex()}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
