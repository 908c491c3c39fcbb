"""A small ONNX graph writer: the protobuf bytes ONNX Runtime loads, without the ``onnx`` package.

Importing ``onnx`` took ~0.6 s here (most of it ``ml_dtypes``), on every start of a server and of
``index_builder.py``, to write a graph of about a hundred nodes. This writes the few message
types such a graph needs (model, graph, node, attribute, tensor, value info; field numbers of
onnx/onnx.proto3) in protobuf's wire format. ONNX Runtime checks the model it is given, so a
mistake here is an error at load, and tests/search/test_encoders.py compares the vectors.
"""

from __future__ import annotations

import struct

import numpy as np

FLOAT, INT8, INT32, INT64 = 1, 3, 6, 7  # TensorProto.DataType
_ELEM = {np.dtype(np.float32): FLOAT, np.dtype(np.int8): INT8, np.dtype(np.int32): INT32, np.dtype(np.int64): INT64}


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 as two's complement, as protobuf does
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _int(field: int, n: int) -> bytes:
    return _varint(field << 3) + _varint(n)


def _bytes(field: int, data: bytes | str) -> bytes:
    if isinstance(data, str):
        data = data.encode()
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _float(field: int, x: float) -> bytes:
    return _varint(field << 3 | 5) + struct.pack("<f", x)


def _attribute(name: str, value) -> bytes:
    out = _bytes(1, name)
    if isinstance(value, float):
        return out + _float(2, value) + _int(20, 1)
    if isinstance(value, int):
        return out + _int(3, value) + _int(20, 2)
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        return out + b"".join(_int(8, v) for v in value) + _int(20, 7)
    raise TypeError(f"attribute {name}: {value!r}")


def _value_info(name: str, elem: int, dims: list) -> bytes:
    shape = b"".join(_bytes(1, _bytes(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    return _bytes(1, name) + _bytes(2, _bytes(1, _int(1, elem) + _bytes(2, shape)))


class Graph:
    """Nodes, initialisers, inputs and outputs, in the order added; :meth:`model` gives the bytes."""

    def __init__(self, name: str):
        self.name = name
        self._nodes: list[bytes] = []
        self._initializers: list[bytes] = []
        self._inputs: list[bytes] = []
        self._outputs: list[bytes] = []

    def input(self, name: str, dtype, dims: list) -> str:
        self._inputs.append(_value_info(name, _ELEM[np.dtype(dtype)], dims))
        return name

    def output(self, name: str, dtype, dims: list) -> str:
        self._outputs.append(_value_info(name, _ELEM[np.dtype(dtype)], dims))
        return name

    def const(self, name: str, value, dtype=np.float32) -> str:
        """An initialiser stored in the graph (small tensors: biases, norms, shapes)."""
        value = np.ascontiguousarray(value, dtype=dtype)
        self._initializers.append(b"".join(_int(1, d) for d in value.shape) + _int(2, _ELEM[value.dtype])
                                  + _bytes(8, name) + _bytes(9, value.tobytes()))
        return name

    def external(self, name: str, value: np.ndarray) -> str:
        """An initialiser whose data the session is given at load (SessionOptions.add_external_initializers)."""
        entries = b"".join(_bytes(13, _bytes(1, k) + _bytes(2, v))
                           for k, v in (("location", "given"), ("offset", "0"), ("length", str(value.nbytes))))
        self._initializers.append(b"".join(_int(1, d) for d in value.shape) + _int(2, _ELEM[value.dtype])
                                  + _bytes(8, name) + entries + _int(14, 1))
        return name

    def op(self, kind: str, inputs: list[str], outputs: str | list[str], domain: str = "", **attrs) -> str | list[str]:
        names = [outputs] if isinstance(outputs, str) else list(outputs)
        node = b"".join(_bytes(1, i) for i in inputs) + b"".join(_bytes(2, o) for o in names)
        node += _bytes(3, names[0]) + _bytes(4, kind) + (_bytes(7, domain) if domain else b"")
        node += b"".join(_bytes(5, _attribute(k, v)) for k, v in attrs.items())
        self._nodes.append(node)
        return outputs

    def model(self, opsets: dict[str, int], ir_version: int = 9) -> bytes:
        graph = (b"".join(_bytes(1, n) for n in self._nodes) + _bytes(2, self.name)
                 + b"".join(_bytes(5, t) for t in self._initializers)
                 + b"".join(_bytes(11, v) for v in self._inputs) + b"".join(_bytes(12, v) for v in self._outputs))
        return (_int(1, ir_version) + _bytes(2, "guide")
                + b"".join(_bytes(8, (_bytes(1, d) if d else b"") + _int(2, v)) for d, v in opsets.items())
                + _bytes(7, graph))
