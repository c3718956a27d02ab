"""Reads a safetensors file with the reference implementation (PyPI safetensors, numpy) and compares it
with what the registry holds: every tensor's name, dtype, shape and bits, and the metadata.

Usage: check_safetensors.py FILE EXPECTED.json
EXPECTED.json: {"metadata": {key: value, ...},
                "tensors": {name: {"shape": [d, ...], "f32le": base64 of the float32 little-endian values}, ...}}
Prints one OK line and exits 0, or lists every difference and exits 1. Run by ModelExportTest and RegressionIT
with the venv of scripts/python-venv.sh.
"""
import base64
import json
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def main(path, expected_path):
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    tensors = load_file(path)
    with safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
    problems = []
    if set(tensors) != set(expected["tensors"]):
        problems.append("tensor names differ: file %s, expected %s" % (sorted(tensors), sorted(expected["tensors"])))
    values = 0
    for name, want_spec in expected["tensors"].items():
        got = tensors.get(name)
        if got is None:
            continue
        want = np.frombuffer(base64.b64decode(want_spec["f32le"]), dtype="<f4").reshape(want_spec["shape"])
        if got.dtype != np.float32:
            problems.append("%s: dtype %s, expected float32" % (name, got.dtype))
            continue
        if list(got.shape) != list(want_spec["shape"]):
            problems.append("%s: shape %s, expected %s" % (name, list(got.shape), want_spec["shape"]))
            continue
        # bit for bit, so -0.0 and every NaN payload count too
        differ = int(np.count_nonzero(got.view(np.uint32) != want.view(np.uint32)))
        if differ:
            problems.append("%s: %d of %d values differ" % (name, differ, got.size))
        values += got.size
    for key, value in expected["metadata"].items():
        if metadata.get(key) != value:
            problems.append("metadata %s: %r, expected %r" % (key, metadata.get(key), value))
    if problems:
        print("FAIL " + path)
        for p in problems:
            print("  " + p)
        return 1
    print("OK %s: %d tensors, %d float32 values equal bit for bit, %d metadata entries match (safetensors %s, numpy %s)"
          % (path, len(tensors), values, len(expected["metadata"]), __import__("safetensors").__version__, np.__version__))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
