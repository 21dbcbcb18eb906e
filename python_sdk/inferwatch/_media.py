"""What bytes, images and arrays are, told without keeping or scanning their content.

Nothing here imports numpy, torch or Pillow: arrays and images are recognised by the module of
their type (numpy, torch, jax, tensorflow, cupy, pandas, ...: an object of any other type with a
`shape` is not asked for it, since it could be anything), and bytes are decoded only when Pillow
is installed. A shape is trusted only as a tuple of at most 32 integers; statistics are read only
from numpy arrays and CPU torch tensors (on a GPU they would wait for the device).
"""

from __future__ import annotations

import io
import math
from typing import Any

_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"),
    (b"BM", "image/bmp"),
    (b"%PDF", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
]
MAX_VERIFIED_BYTES = 32 * 1024 * 1024  # images larger than this are not decoded to be checked
MAX_ARRAY_STATS = 1_000_000  # elements: min/max/NaN copy the array, not for big ones
_MAX_DIMS = 32


def number(value: float) -> Any:
    """NaN and infinity as text: JSON has no such numbers, and a NaN is what the reader needs
    to see (`"nan"`), not a reason for the event to be refused."""
    return value if math.isfinite(value) else str(value)


def sniff(data: bytes) -> str:
    """The media type the first bytes of `data` announce, or `application/octet-stream`."""
    for magic, mime in _MAGIC:
        if data.startswith(magic) and (mime != "image/webp" or data[8:12] == b"WEBP"):
            return mime
    try:
        data[:512].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def describe_bytes(data: bytes | bytearray | memoryview) -> dict[str, Any]:
    """Size and media type; for an image, its format, size and mode and whether it verifies."""
    size = data.nbytes if isinstance(data, memoryview) else len(data)
    out: dict[str, Any] = {"type": "bytes", "size": size, "mime": sniff(bytes(data[:512]))}
    if out["mime"].startswith("image/"):
        out["image"] = (
            verify_image(bytes(data))
            if size <= MAX_VERIFIED_BYTES
            else {"verified": None, "note": f"larger than {MAX_VERIFIED_BYTES} bytes: not decoded"}
        )
    return out


def verify_image(data: bytes) -> dict[str, Any]:
    try:
        from PIL import Image
    except ImportError:
        return {"verified": None, "note": "install inferwatch[image] to check images"}
    try:
        with Image.open(io.BytesIO(data)) as img:
            info = image_info(img)
            img.verify()
        return {**info, "verified": True}
    except Exception as exc:
        message = str(exc)
        return {"verified": False, "error": f"{type(exc).__name__}: {message[:200]}"}


_ARRAY_MODULES = frozenset(
    [
        "numpy",
        "torch",
        "jax",
        "jaxlib",
        "tensorflow",
        "cupy",
        "pandas",
        "xarray",
        "dask",
        "mlx",
        "paddle",
        "mxnet",
    ]
)


def _module(value: Any) -> str:
    return str(getattr(type(value), "__module__", "") or "").split(".", 1)[0]


def is_pil_image(value: Any) -> bool:
    return _module(value) == "PIL" and hasattr(value, "size") and hasattr(value, "mode")


def image_info(img: Any) -> dict[str, Any]:
    width, height = img.size
    return {"format": img.format, "width": width, "height": height, "mode": img.mode}


def is_array(value: Any) -> bool:
    """An array, tensor or frame of a known library (a DataFrame has a shape, no dtype)."""
    return (
        _module(value) in _ARRAY_MODULES and not isinstance(value, type) and hasattr(value, "shape")
    )


def array_shape(value: Any) -> list[int] | None:
    """The shape as a list of ints, when it is a short tuple of ints (numpy, torch.Size)."""
    shape = value.shape
    if not isinstance(shape, tuple) or tuple.__len__(shape) > _MAX_DIMS:
        return None
    dims = list(tuple.__iter__(shape))
    if not all(type(d) is int for d in dims):
        return None
    return dims


def describe_array(arr: Any) -> dict[str, Any]:
    """dtype, shape, and for a small numpy array or CPU tensor, min, max and NaN count."""
    shape = array_shape(arr)
    if shape is None or not hasattr(arr, "dtype"):
        return {"type": "array", "class": type(arr).__name__, "shape": shape}
    out: dict[str, Any] = {"type": "array", "dtype": str(arr.dtype)[:100], "shape": shape}
    if math.prod(shape) <= MAX_ARRAY_STATS and _statistics_are_cheap(arr):
        try:
            finite = arr[arr == arr]  # NaN != NaN: works for numpy and torch alike
            out["nan_count"] = int((arr != arr).sum())
            if int(finite.size if isinstance(finite.size, int) else finite.numel()):
                out["min"] = number(float(finite.min()))
                out["max"] = number(float(finite.max()))
        except Exception:
            pass  # non-numeric dtypes have no min or NaN
    return out


def _statistics_are_cheap(arr: Any) -> bool:
    module = _module(arr)
    if module == "numpy":
        return True
    if module == "torch":
        return getattr(getattr(arr, "device", None), "type", None) == "cpu"
    return False
