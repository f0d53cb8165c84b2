"""Minimal PNG writer (RGB uint8) used for sample grids."""
import struct
import zlib
import numpy as np


def write_png(path, img):
    img = np.ascontiguousarray(img, dtype=np.uint8)
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def grid(imgs, cols, scale=2):
    n = len(imgs)
    rows = (n + cols - 1) // cols
    h, w = imgs[0].shape[:2]
    out = np.full((rows * (h + 2), cols * (w + 2), 3), 128, np.uint8)
    for i, im in enumerate(imgs):
        r, c = divmod(i, cols)
        out[r * (h + 2):r * (h + 2) + h, c * (w + 2):c * (w + 2) + w] = im
    return out.repeat(scale, 0).repeat(scale, 1)
