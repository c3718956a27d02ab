"""schemathesis hooks of model-registry's OpenAPI contract test (OpenApiContractTest).

Two things the OpenAPI document states but JSON Schema cannot express, so that generated requests
respect them:

1. The Avro ingest media types of POST /api/ingest/updates. schemathesis has no generator for
   application/vnd.fedseal.update-envelope(s)+avro, so these register one: arbitrary bytes for one
   envelope, and length-prefixed frames of arbitrary bytes for a batch (4-byte big-endian length,
   up to 17 frames: one past the 16-record limit, sometimes with a truncated tail), which drives
   the registry's batch splitting and Avro decoding. Valid *signed* envelopes cannot be generated
   here (no Ed25519 signer, no enrolled key), so the ingest operation's positive-data check
   accepts its documented 4xx answers (see schemathesis.toml); accepted ingest is covered by
   HttpIngestTest.

2. POST /api/models: weightsBase64 must decode to finite float32 values (a NaN or infinite weight
   is a 400). The document's pattern fixes the encoding and the length (a whole number of
   float32s) but cannot say "finite", so a generated value that decodes to a NaN or infinity gets
   the top bit of its exponent cleared, which makes it finite and keeps it schema-valid (same
   length, same alphabet).
"""

import base64
import binascii
import struct

import schemathesis
from hypothesis import strategies as st

SINGLE = "application/vnd.fedseal.update-envelope+avro"
BATCH = "application/vnd.fedseal.update-envelopes+avro"


@st.composite
def _batch(draw):
    frames = draw(st.lists(st.binary(max_size=64), max_size=17))
    body = b"".join(struct.pack(">I", len(f)) + f for f in frames)
    if draw(st.booleans()):
        body += draw(st.binary(min_size=1, max_size=6))
    return body


schemathesis.openapi.media_type(SINGLE, st.binary(max_size=256), aliases=["application/avro"])
schemathesis.openapi.media_type(BATCH, _batch())


def _finite_float32s(raw: bytes) -> bytes:
    out = bytearray(raw)
    for i in range(0, len(out), 4):
        # little-endian float32: the exponent is bits 0-6 of byte 3 and bit 7 of byte 2; all ones is NaN or +-Inf
        if out[i + 3] & 0x7F == 0x7F and out[i + 2] & 0x80:
            out[i + 3] &= 0xBF
    return bytes(out)


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.method.upper() != "POST" or case.operation.path != "/api/models":
        return
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("weightsBase64"), str):
        return
    try:
        raw = base64.b64decode(body["weightsBase64"], validate=True)
    except (binascii.Error, ValueError):
        return
    if not raw or len(raw) % 4:
        return
    finite = _finite_float32s(raw)
    if finite != raw:
        body["weightsBase64"] = base64.b64encode(finite).decode("ascii")
