"""A test-only re-implementation of the ``invisible-watermark`` dwtDct ENCODER
(imwatermark/maxDct.py ``EmbedMaxDct.encode`` with its defaults), to make watermarked test
pictures without the library (which needs torch). Its faithfulness is checked against the real
library's output (tests/assets/sd_watermark_golden.json, made by
tests/assets/make_sd_watermark_golden.py): byte-identical on a reference crop.

Derived from invisible-watermark 0.2.0, https://github.com/ShieldMnt/invisible-watermark,
under its licence:

    MIT License

    Copyright (c) 2021 ShieldMnt

    Permission is hereby granted, free of charge, to any person obtaining a copy
    of this software and associated documentation files (the "Software"), to deal
    in the Software without restriction, including without limitation the rights
    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
    copies of the Software, and to permit persons to whom the Software is
    furnished to do so, subject to the following conditions:

    The above copyright notice and this permission notice shall be included in all
    copies or substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
    FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
    AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
    LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
    OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
    SOFTWARE.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray


def bits_of(data: bytes) -> list[int]:
    return [int(b) for b in np.unpackbits(np.frombuffer(data, dtype=np.uint8))]


def haar_dwt2(x: NDArray[Any]) -> tuple[NDArray[np.float64], ...]:
    """pywt.dwt2(x, 'haar') for even sides: cA, cH, cV, cD."""
    f = x if x.dtype == np.float32 else x.astype(np.float64)  # pywt keeps float32
    h = f.dtype.type(0.7071067811865476)  # pywt's tap in the data's precision
    a, b, c, d = f[0::2, 0::2], f[0::2, 1::2], f[1::2, 0::2], f[1::2, 1::2]
    lo_l, lo_r = a * h + c * h, b * h + d * h
    hi_l, hi_r = a * h - c * h, b * h - d * h
    return lo_l * h + lo_r * h, hi_l * h + hi_r * h, lo_l * h - lo_r * h, hi_l * h - hi_r * h


def haar_idwt2(ca: NDArray[Any], ch: NDArray[Any], cv: NDArray[Any], cd: NDArray[Any]) -> Any:
    """pywt.idwt2((ca, (ch, cv, cd)), 'haar')."""
    h = ca.dtype.type(0.7071067811865476)
    l_e, l_o = ca * h + cv * h, ca * h - cv * h
    h_e, h_o = ch * h + cd * h, ch * h - cd * h
    out = np.empty((ca.shape[0] * 2, ca.shape[1] * 2), dtype=ca.dtype)
    out[0::2, 0::2], out[1::2, 0::2] = l_e * h + h_e * h, l_e * h - h_e * h
    out[0::2, 1::2], out[1::2, 1::2] = l_o * h + h_o * h, l_o * h - h_o * h
    return out


def encode_frame(frame: NDArray[np.float64], bits: list[int], scale: int, block: int) -> None:
    """EmbedMaxDct.encode_frame + diffuse_dct_matrix, in place (blocks in row-major order)."""
    br, bc = frame.shape[0] // block, frame.shape[1] // block
    view = frame[: br * block, : bc * block].reshape(br, block, bc, block).transpose(0, 2, 1, 3)
    blocks = view.reshape(br * bc, block * block)  # a copy; written back below
    n = np.arange(blocks.shape[0])
    wm = np.asarray(bits, dtype=np.float64)[n % len(bits)]
    pos = np.argmax(np.abs(blocks[:, 1:]), axis=1) + 1
    val = blocks[n, pos]
    mag = np.abs(val)
    new = (mag // scale + 0.25 + 0.5 * wm) * scale
    blocks[n, pos] = np.where(val >= 0.0, new, -1.0 * new)
    view[...] = blocks.reshape(br, bc, block, block)


def encode(bgr: NDArray[Any], bits: list[int], scales: tuple[int, ...] = (0, 36, 36)) -> Any:
    """EmbedMaxDct(bits, len(bits)).encode(bgr): what WatermarkEncoder.encode(bgr, 'dwtDct')
    returns (same dtype as the input, uint8 or float32)."""
    row, col = bgr.shape[:2]
    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)
    for channel in range(2):  # sic: the library only ever uses channels 0 and 1
        if scales[channel] <= 0:
            continue
        ca, ch, cv, cd = haar_dwt2(yuv[: row // 4 * 4, : col // 4 * 4, channel])
        encode_frame(ca, bits, scales[channel], 4)
        # sic: the library passes (v, h) where pywt returns (h, v)
        yuv[: row // 4 * 4, : col // 4 * 4, channel] = haar_idwt2(ca, cv, ch, cd)
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)
