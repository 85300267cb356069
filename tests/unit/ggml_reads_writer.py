#!/usr/bin/env python3
"""Check that files from tests/tools/gguf_writer.py are read by ggml's own GGUF
reader (libggml-base.so, gguf_init_from_file with no_alloc) exactly as written:
version, keys and their types, alignment, data offset, and per tensor the name,
type and offset.

With GGUF_DUMP (tests/tools/gguf_dump.c), also check that gguffs' parser reads
the same files, and one written by ggml's own GGUF writer, as ggml does.

usage: ggml_reads_writer.py LIBDIR [GGUF_DUMP]
"""

import ctypes
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from gguf_writer import random_writer, sample_writer  # noqa: E402


class InitParams(ctypes.Structure):
    # gguf.h: struct gguf_init_params { bool no_alloc; struct ggml_context ** ctx; };
    _fields_ = [("no_alloc", ctypes.c_bool), ("ctx", ctypes.c_void_p)]


def load(libdir):
    lib = ctypes.CDLL(os.path.join(libdir, "libggml-base.so"))
    sig = {
        "gguf_init_from_file": (ctypes.c_void_p, [ctypes.c_char_p, InitParams]),
        "gguf_free": (None, [ctypes.c_void_p]),
        "gguf_get_version": (ctypes.c_uint32, [ctypes.c_void_p]),
        "gguf_get_alignment": (ctypes.c_size_t, [ctypes.c_void_p]),
        "gguf_get_data_offset": (ctypes.c_size_t, [ctypes.c_void_p]),
        "gguf_get_n_kv": (ctypes.c_int64, [ctypes.c_void_p]),
        "gguf_get_key": (ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_int64]),
        "gguf_get_kv_type": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int64]),
        "gguf_get_n_tensors": (ctypes.c_int64, [ctypes.c_void_p]),
        "gguf_get_tensor_name": (ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_int64]),
        "gguf_get_tensor_type": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int64]),
        "gguf_get_tensor_offset": (ctypes.c_size_t, [ctypes.c_void_p, ctypes.c_int64]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


class GGMLInitParams(ctypes.Structure):
    # ggml.h: struct ggml_init_params { size_t mem_size; void * mem_buffer; bool no_alloc; };
    _fields_ = [("mem_size", ctypes.c_size_t), ("mem_buffer", ctypes.c_void_p),
                ("no_alloc", ctypes.c_bool)]


def ggml_write(libdir, path, types):
    """A model written by ggml's own writer: one [3 blocks, 2] tensor per type."""
    lib = ctypes.CDLL(os.path.join(libdir, "libggml-base.so"))
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    sig = {
        "ggml_init": (vp, [GGMLInitParams]), "ggml_free": (None, [vp]),
        "ggml_new_tensor": (vp, [vp, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int64)]),
        "ggml_set_name": (vp, [vp, cp]), "ggml_get_data": (vp, [vp]),
        "ggml_nbytes": (ctypes.c_size_t, [vp]), "gguf_init_empty": (vp, []),
        "gguf_free": (None, [vp]), "gguf_set_val_str": (None, [vp, cp, cp]),
        "gguf_set_val_u32": (None, [vp, cp, ctypes.c_uint32]),
        "gguf_add_tensor": (None, [vp, vp]),
        "gguf_write_to_file": (ctypes.c_bool, [vp, cp, ctypes.c_bool]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    from gguf_writer import TYPE_INFO
    rng = np.random.default_rng(7)
    ctx = lib.ggml_init(GGMLInitParams(16 << 20, None, False))
    g = lib.gguf_init_empty()
    lib.gguf_set_val_str(g, b"general.architecture", b"llama")
    lib.gguf_set_val_str(g, b"general.name", b"ggml-written")
    for i, tid in enumerate(types):
        ne = (ctypes.c_int64 * 2)(TYPE_INFO[tid][1] * 3, 2)
        t = lib.ggml_new_tensor(ctx, tid, 2, ne)
        lib.ggml_set_name(t, ("blk.%d.%s.weight" % (i, TYPE_INFO[tid][0])).encode())
        n = lib.ggml_nbytes(t)
        ctypes.memmove(lib.ggml_get_data(t), rng.integers(0, 256, n, dtype=np.uint8).tobytes(), n)
        lib.gguf_add_tensor(g, t)
    ok = lib.gguf_write_to_file(g, path.encode(), False)
    lib.gguf_free(g)
    lib.ggml_free(ctx)
    return ok


def ggml_view(lib, path):
    """What ggml's reader makes of a file, in gguf_dump's terms."""
    ctx = lib.gguf_init_from_file(path.encode(), InitParams(True, None))
    if not ctx:
        return None
    base = lib.gguf_get_data_offset(ctx)
    view = {"alignment": lib.gguf_get_alignment(ctx), "data": base,
            "tensors": [(lib.gguf_get_tensor_name(ctx, i).decode(), lib.gguf_get_tensor_type(ctx, i),
                         base + lib.gguf_get_tensor_offset(ctx, i))
                        for i in range(lib.gguf_get_n_tensors(ctx))]}
    lib.gguf_free(ctx)
    return view


def dump_view(dump, path):
    """The same from gguffs' parser, through gguf_dump's output."""
    p = subprocess.run([dump, path], capture_output=True, text=True)
    if p.returncode != 0:
        return None
    lines = p.stdout.splitlines()
    head = lines[0].split(", ")
    view = {"alignment": int(head[3].split()[1]), "data": int(head[4].split()[-1]), "tensors": []}
    types = {v[0]: k for k, v in __import__("gguf_writer").TYPE_INFO.items()}
    for ln in lines[3:]:
        f = ln.split()
        off = int([x for x in f if x.startswith("offset=")][0][7:])
        view["tensors"].append((f[-1], types[f[1]], off))
    return view


def compare_parser(lib, dump, path):
    a, b = ggml_view(lib, path), dump_view(dump, path)
    if a is None or b is None or a != b:
        return ["%s: ggml reads %r, gguffs reads %r" % (path, a, b)]
    return []


def check(lib, w, path):
    w.write(path)
    ctx = lib.gguf_init_from_file(path.encode(), InitParams(True, None))
    if not ctx:
        return ["ggml refused %s" % path]
    errs = []

    def want(what, got, exp):
        if got != exp:
            errs.append("%s: %s is %r, expected %r" % (path, what, got, exp))

    try:
        want("version", lib.gguf_get_version(ctx), w.version)
        want("alignment", lib.gguf_get_alignment(ctx), w.alignment or 32)
        want("data offset", lib.gguf_get_data_offset(ctx), w.layout["data_offset"])
        want("n_kv", lib.gguf_get_n_kv(ctx), len(w.kvs))
        for i, (kb, raw) in enumerate(w.kvs):
            want("key %d" % i, lib.gguf_get_key(ctx, i), kb)
            want("key %d type" % i, lib.gguf_get_kv_type(ctx, i), int.from_bytes(raw[:4], "little"))
        want("n_tensors", lib.gguf_get_n_tensors(ctx), len(w.tensors))
        for i, t in enumerate(w.tensors):
            want("tensor %d name" % i, lib.gguf_get_tensor_name(ctx, i), t["name"])
            want("tensor %d type" % i, lib.gguf_get_tensor_type(ctx, i), t["type"])
            off = w.layout["data_offset"] + lib.gguf_get_tensor_offset(ctx, i)
            want("tensor %d offset" % i, off, w.layout["tensor_data"][i])
    finally:
        lib.gguf_free(ctx)
    return errs


def main():
    if len(sys.argv) < 2 or not os.path.exists(os.path.join(sys.argv[1], "libggml-base.so")):
        print("SKIP: no libggml-base.so (run tests/conformance/fetch-ggml)")
        return 77
    lib = load(sys.argv[1])
    dump = sys.argv[2] if len(sys.argv) > 2 else None
    tmp = tempfile.mkdtemp(prefix="gguffs-ggmlread-")
    try:
        cases = [("sample", sample_writer())]
        for seed, align, version in [(1, None, 3), (2, 1, 3), (3, 64, 2), (4, 4096, 3), (5, 8, 2)]:
            cases.append(("random-%d" % seed, random_writer(seed, alignment=align, version=version,
                                                             max_elements=2048)))
        errs = []
        for name, w in cases:
            path = os.path.join(tmp, name + ".gguf")
            errs += check(lib, w, path)
            if dump:
                errs += compare_parser(lib, dump, path)
        if dump:
            from gguf_writer import SUPPORTED_TYPES, GT
            path = os.path.join(tmp, "ggml-written.gguf")
            types = SUPPORTED_TYPES + [GT.IQ2_XXS, GT.MXFP4, GT.I32, GT.TQ2_0, GT.F64]
            if not ggml_write(sys.argv[1], path, types):
                errs.append("ggml could not write %s" % path)
            else:
                errs += compare_parser(lib, dump, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for e in errs:
        print("FAIL:", e)
    print("%d files checked against ggml's reader%s, %d problems"
          % (len(cases) + (1 if dump else 0), " (and gguffs' parser)" if dump else "", len(errs)))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
