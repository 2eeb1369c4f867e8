#!/usr/bin/env python3
"""Makes broken copies of a built test module for the VM's insmod -f cases.
Each edit keeps the file's size and layout (only bytes inside .modinfo or
__versions change), so the kernel sees exactly one thing wrong:

    testmodules/mangle.py vermagic   IN.ko OUT.ko   # vermagic value changed
    testmodules/mangle.py novermagic IN.ko OUT.ko   # no vermagic= key at all
    testmodules/mangle.py crc SYMBOL IN.ko OUT.ko   # SYMBOL's CRC in __versions changed
    testmodules/mangle.py rename OLD NEW IN.ko OUT.ko  # needed symbol OLD renamed NEW
                                                     # (same length; .strtab and __versions)
    testmodules/mangle.py license TEXT IN.ko OUT.ko    # license= value replaced (not longer)
    testmodules/mangle.py importns OLD NEW IN.ko OUT.ko  # import_ns=OLD becomes NEW (same length)

Only 64-bit little-endian modules (x86-64) are handled; anything else, or
a module lacking what is to be changed, is an error (exit 1).
"""

import struct
import sys


def die(msg):
    print(f"mangle.py: {msg}", file=sys.stderr)
    sys.exit(1)


def sections(img):
    """Yields (name, offset, size) of each section of an ELF64 LE image."""
    if img[:4] != b"\x7fELF" or img[4] != 2 or img[5] != 1:
        die("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", img, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", img, 0x3A)
    hdr = lambda i: struct.unpack_from("<IIQQQQ", img, shoff + i * shentsize)
    _, _, _, _, stroff, _ = hdr(shstrndx)
    for i in range(1, shnum):
        name, _, _, _, off, size = hdr(i)
        end = img.index(b"\0", stroff + name)
        yield img[stroff + name:end].decode(), off, size


def section(img, wanted):
    for name, off, size in sections(img):
        if name == wanted:
            return off, size
    die(f"no {wanted} section")


def modinfo_key(img, key):
    """Offset of the `key=` string in .modinfo."""
    off, size = section(img, ".modinfo")
    at = img.find(b"\0" + key + b"=", off - 1, off + size)
    if at < 0:
        die(f"no {key.decode()}= in .modinfo")
    return at + 1


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        die("usage: mangle.py vermagic|novermagic|crc|rename|license|importns [ARGS] IN OUT")
    what, src, dst = args[0], args[-2], args[-1]
    img = bytearray(open(src, "rb").read())
    if what == "vermagic":
        # "vermagic=6.1.0-50-amd64 SMP ..." -> "vermagic=6.1.0-50-amd64 SMQ ..."
        at = modinfo_key(img, b"vermagic")
        smp = img.find(b" SMP", at, img.index(b"\0", at))
        if smp < 0:
            die("vermagic without SMP")
        img[smp + 3] = ord("Q")
    elif what == "novermagic":
        at = modinfo_key(img, b"vermagic")
        img[at + len("vermagi")] = ord("x")
    elif what == "crc" and len(args) == 4:
        symbol = args[1].encode()
        off, size = section(img, "__versions")
        for entry in range(off, off + size, 64):
            name = bytes(img[entry + 8:entry + 64]).split(b"\0")[0]
            if name == symbol:
                img[entry] ^= 0x01
                break
        else:
            die(f"no {args[1]} in __versions")
    elif what == "rename" and len(args) == 5:
        old, new = args[1].encode(), args[2].encode()
        if len(old) != len(new):
            die("rename: OLD and NEW must have the same length")
        off, size = section(img, ".strtab")
        at = img.find(b"\0" + old + b"\0", off - 1, off + size)
        if at < 0:
            die(f"no {args[1]} in .strtab")
        img[at + 1:at + 1 + len(old)] = new
        off, size = section(img, "__versions")
        for entry in range(off, off + size, 64):
            if bytes(img[entry + 8:entry + 64]).split(b"\0")[0] == old:
                img[entry + 8:entry + 8 + len(old)] = new
    elif what == "license" and len(args) == 4:
        at = modinfo_key(img, b"license") + len("license=")
        end = img.index(b"\0", at)
        text = args[1].encode()
        if len(text) > end - at:
            die("license: the new text is longer than the old")
        img[at:end] = text + b"\0" * (end - at - len(text))
    elif what == "importns" and len(args) == 5:
        old, new = args[1].encode(), args[2].encode()
        if len(old) != len(new):
            die("importns: OLD and NEW must have the same length")
        off, size = section(img, ".modinfo")
        at = img.find(b"import_ns=" + old + b"\0", off, off + size)
        if at < 0:
            die(f"no import_ns={args[1]}")
        at += len("import_ns=")
        img[at:at + len(old)] = new
    else:
        die(f"unknown edit {what}")
    open(dst, "wb").write(img)


if __name__ == "__main__":
    main()
