"""`python -m gongkai.bench.compression FILE [--out build/compression.json]`: what serving a big
text download compressed costs, in one run on one file.

Per method: seconds of CPU to compress the whole file, throughput, and the compressed size as a
share of the file. The on-the-fly methods are the streaming compressors a request would run
(64 KiB chunks, as gongkai/portal/file_response.py sends); the ahead-of-time ones are what
gongkai/exports/precompress.py writes at build time, after which a request costs a read(2) of
the stored file, no compression at all. Ratios between methods are the figure; the absolute
seconds depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path

import brotli

CHUNK = 1 << 16


def _stream(data: bytes, make, step, finish) -> tuple[float, int]:
    t0 = time.process_time()
    c = make()
    out = 0
    for i in range(0, len(data), CHUNK):
        out += len(step(c, data[i : i + CHUNK]))
    out += len(finish(c))
    return time.process_time() - t0, out


def measure(path: Path) -> dict:
    from ..exports import precompress

    data = path.read_bytes()
    methods = {
        "gzip6_stream": (
            lambda: zlib.compressobj(6, zlib.DEFLATED, 31),
            lambda c, b: c.compress(b),
            lambda c: c.flush(),
        ),
        "br4_stream": (lambda: brotli.Compressor(quality=4), lambda c, b: c.process(b), lambda c: c.finish()),
        "br5_stream": (lambda: brotli.Compressor(quality=5), lambda c, b: c.process(b), lambda c: c.finish()),
    }
    figures: dict = {"file": str(path), "bytes": len(data)}
    for name, (make, step, finish) in methods.items():
        seconds, size = _stream(data, make, step, finish)
        figures[name] = {
            "cpu_s": round(seconds, 3),
            "mb_per_s": round(len(data) / seconds / 1e6, 1),
            "ratio": round(size / len(data), 4),
        }
    for name, write in (("br_build", precompress.write_br), ("gzip_build", precompress.write_gzip)):
        target = path.with_name(f".bench-{path.name}.{name}")
        t0 = time.process_time()
        write(path, target)
        seconds = time.process_time() - t0
        figures[name] = {
            "cpu_s": round(seconds, 3),
            "mb_per_s": round(len(data) / seconds / 1e6, 1),
            "ratio": round(target.stat().st_size / len(data), 4),
        }
        target.unlink()
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gongkai.bench.compression", description=__doc__.splitlines()[0])
    p.add_argument("file", type=Path)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    figures = measure(args.file)
    text = json.dumps(figures, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
