#!/usr/bin/env python3
"""Writes test/fixtures/tar.json: small .tar.gz archives made by Python's tarfile module (an
independent tar writer) to test src/io/tar.ts: ustar, pax and GNU long names, a directory, an empty
file, and hostile archives (a '..' path, an absolute path, a symbolic link) that must be refused.

Run: /usr/bin/python3 tools/reference/make_tar_fixtures.py
"""
import base64
import gzip
import hashlib
import io
import json
import pathlib
import random
import tarfile

random.seed(0)
LONG = "cifar-like/" + "a-very-long-directory-name-" * 4 + "/data_batch_with_a_long_name.bin"


def member(tf, name, data=None, kind="file", linkname=""):
    info = tarfile.TarInfo(name)
    info.mtime = 1_700_000_000
    if kind == "dir":
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tf.addfile(info)
    elif kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = linkname
        tf.addfile(info)
    else:
        info.size = len(data)
        info.mode = 0o644
        tf.addfile(info, io.BytesIO(data))


def archive(fmt, members):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tf:
        for m in members:
            member(tf, *m)
    return gzip.compress(raw.getvalue(), mtime=0)


def main():
    blob = bytes(random.getrandbits(8) for _ in range(3000))
    text = "line one\nline two\n".encode()
    good = [("top", None, "dir"), ("top/blob.bin", blob), ("top/empty.txt", b""), ("top/notes.txt", text), (LONG, text)]
    expected = {
        "top/blob.bin": hashlib.sha256(blob).hexdigest(),
        "top/empty.txt": hashlib.sha256(b"").hexdigest(),
        "top/notes.txt": hashlib.sha256(text).hexdigest(),
        LONG: hashlib.sha256(text).hexdigest(),
    }
    out = {
        "generator": "tools/reference/make_tar_fixtures.py",
        "expected": expected,
        "good": {
            "pax": base64.b64encode(archive(tarfile.PAX_FORMAT, good)).decode(),
            "gnu": base64.b64encode(archive(tarfile.GNU_FORMAT, good)).decode(),
            "ustar": base64.b64encode(archive(tarfile.USTAR_FORMAT, good)).decode(),
        },
        "hostile": {
            "dotdot": base64.b64encode(archive(tarfile.PAX_FORMAT, [("ok.txt", text), ("../evil.txt", text)])).decode(),
            "absolute": base64.b64encode(archive(tarfile.PAX_FORMAT, [("/tmp/evil.txt", text)])).decode(),
            "symlink": base64.b64encode(archive(tarfile.PAX_FORMAT, [("link", None, "symlink", "/etc/passwd")])).decode(),
        },
    }
    path = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "tar.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
