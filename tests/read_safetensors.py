#!/usr/bin/env python3
"""An independent safetensors reader for tests (standard library only): prints, for each
tensor of the file, "name dtype shape sha256-of-its-bytes", checking the format's rules as
it goes. Usage: read_safetensors.py FILE"""
import hashlib, json, struct, sys

SIZES = {"F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1}

def main(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    assert (8 + n) % 8 == 0, "the data should start at a multiple of 8"
    body = data[8 + n:]
    header.pop("__metadata__", None)
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, stop = info["data_offsets"]
        assert begin == end, f"{name}: gap or overlap at {begin}"
        count = 1
        for s in info["shape"]:
            count *= s
        assert stop - begin == count * SIZES[info["dtype"]], f"{name}: size"
        end = stop
        shape = ",".join(map(str, info["shape"]))
        print(name, info["dtype"], f"[{shape}]", hashlib.sha256(body[begin:stop]).hexdigest())
    assert end == len(body), "the tensors should cover the data section"

if __name__ == "__main__":
    main(sys.argv[1])
