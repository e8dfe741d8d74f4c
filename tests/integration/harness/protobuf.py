# SPDX-License-Identifier: GPL-2.0-only
"""The protobuf exposition read by a decoder that knows nothing of the
exporter's .proto: `protoc --decode_raw` (Debian's protobuf-compiler) prints
each message's fields by wire number, and the numbers are read here as the
format publishes them (io.prometheus.client.MetricFamily)."""

import re
import struct
import subprocess


def split_delimited(body):
    """The messages of a body of varint-length-prefixed messages; ValueError
    when a length runs past the end."""
    messages, at = [], 0
    while at < len(body):
        length, shift = 0, 0
        while True:
            byte = body[at]
            at += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        if at + length > len(body):
            raise ValueError(f"message of {length} bytes at {at} runs past the end")
        messages.append(body[at:at + length])
        at += length
    return messages


FIELD = re.compile(r'^(\d+): (.*)$')


def decode_raw(protoc, message):
    """{field number: [values]} of one message, nested messages as dicts;
    numbers as int, 64-bit fixed values (doubles) as float, strings as
    str. A string of bytes that also parses as a message (packed numbers
    can) is shown by decode_raw as one, so its fields may look odd."""
    out = subprocess.run([protoc, "--decode_raw"], input=message, capture_output=True,
                         check=True).stdout.decode()
    stack = [{}]
    for line in out.splitlines():
        line = line.strip()
        if line.endswith("{"):
            child = {}
            stack[-1].setdefault(int(line.split()[0]), []).append(child)
            stack.append(child)
        elif line == "}":
            stack.pop()
        else:
            number, text = FIELD.match(line).groups()
            stack[-1].setdefault(int(number), []).append(_scalar(text))
    return stack[0]


def _scalar(text):
    """A string as str, or as bytes when it is no UTF-8 (packed numbers)."""
    if text.startswith('"'):
        raw = bytes(text[1:-1], "utf-8").decode("unicode_escape").encode("latin-1")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    if text.startswith("0x") and len(text) == 18:
        return struct.unpack("<d", int(text, 16).to_bytes(8, "little"))[0]
    return int(text, 16 if text.startswith("0x") else 10)  # fixed32 in hex


def zigzag(n):
    """A sint field's value from the varint decode_raw prints."""
    return (n >> 1) ^ -(n & 1)


def packed_zigzag(data):
    """The values of a packed repeated sint64 field, which decode_raw shows
    as a string of bytes (bytes or, when they happen to be UTF-8, str)."""
    data = data.encode("utf-8") if isinstance(data, str) else data
    values, n, shift = [], 0, 0
    for byte in data:
        n |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            values.append(zigzag(n))
            n, shift = 0, 0
    return values
