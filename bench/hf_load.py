#!/usr/bin/env python3
"""hf_load.py - one timed AutoModelForCausalLM.from_pretrained(DIR), for bench/run --hf.

    hf_load.py DIR

Loads the model on the CPU in bfloat16 (no device_map), then reads one
byte of every 4 KiB of every parameter: transformers may keep
tensors mapped from the safetensors file, and then from_pretrained alone
would not have read the weights. Prints one line:

    load_s=S touch_s=S hwm_kb=K base_kb=K params=N sum=X

load_s is from_pretrained's wall time, touch_s the reading pass after it,
hwm_kb the process's peak RSS (VmHWM) at the end, base_kb its VmHWM before
from_pretrained (python, torch and transformers imported), sum a checksum
of the elements read (equal for two loads of the same weights).
Exits 77 (and says why) where torch or transformers cannot be imported.
"""
import sys
import time


def vm_hwm_kb():
    """The process's peak resident set, KiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: hf_load.py DIR")
    try:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM
    except ImportError as e:
        print(f"SKIP: {e}")
        sys.exit(77)
    # transformers 5 names the argument dtype; 4.x torch_dtype
    major = int(transformers.__version__.split(".")[0])
    kw = {"dtype" if major >= 5 else "torch_dtype": torch.bfloat16}
    base = vm_hwm_kb()
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(sys.argv[1], **kw)
    t1 = time.perf_counter()
    total, n = 0, 0
    with torch.no_grad():
        for p in model.parameters():
            b = p.detach().reshape(-1).view(torch.uint8)
            total += int(b[::4096].to(torch.int64).sum())
            n += p.numel()
    t2 = time.perf_counter()
    print(f"load_s={t1 - t0:.3f} touch_s={t2 - t1:.3f} hwm_kb={vm_hwm_kb()} base_kb={base} "
          f"params={n} sum={total}")


if __name__ == "__main__":
    main()
