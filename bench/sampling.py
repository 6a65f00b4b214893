"""Benchmark: sampling speed (rows per second) of our generators, against SDV's where it has the same kind.

Usage: python bench/sampling.py [--rows 100000] [--datasets telco,loans,hotels,insurance,flights]
Models are trained briefly (sampling speed does not depend on how long they trained); the timing covers
the whole public ``sample`` call, decoding to typed columns included. The autoregressive and diffusion
generators take one network pass per column or per denoising step, so they are timed on a tenth of the
rows.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import DATASETS, load  # noqa: E402
from evaluation.sdmetrics_bridge import metadata_for, plain_frame  # noqa: E402
from models import registry  # noqa: E402

TARGET = 100_000


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    args = parser.parse_args()
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer, TVAESynthesizer

    print(f"| dataset | generator | ours rows/s | SDV rows/s | ours / SDV | ours >= {TARGET:,}/s |")
    print("|---|---|---|---|---|---|")
    for key in args.datasets.split(","):
        schema, train, _ = load(key)
        meta = Metadata.load_from_dict({"tables": {"table": metadata_for(schema)}, "METADATA_SPEC_VERSION": "V1"})
        for name, sdv_cls, extra in (("copula", GaussianCopulaSynthesizer, {}),
                                     ("vae", TVAESynthesizer, {"epochs": 2})):
            ours = registry.create(name, "fast", **({"epochs": 2} if name == "vae" else {})).fit(train, schema)
            ours.sample(1000, seed=0)  # warm-up
            ours_rate = args.rows / timed(lambda: ours.sample(args.rows, seed=1))
            anchor = sdv_cls(meta, **extra)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                anchor.fit({"table": plain_frame(train, schema)})
                anchor_rate = args.rows / timed(lambda: anchor.sample(args.rows))
            ok = "yes" if ours_rate >= TARGET else "NO"
            print(f"| {key} | {name} | {ours_rate:,.0f} | {anchor_rate:,.0f} | {ours_rate / anchor_rate:.1f}x | {ok} |",
                  flush=True)
        for name in ("autoregressive", "diffusion"):
            ours = registry.create(name, "fast", epochs=2).fit(train, schema)
            ours.sample(100, seed=0)  # warm-up
            rows = max(args.rows // 10, 1)
            ours_rate = rows / timed(lambda: ours.sample(rows, seed=1))
            ok = "yes" if ours_rate >= TARGET else "no"
            print(f"| {key} | {name} | {ours_rate:,.0f} | n/a | | {ok} |", flush=True)


if __name__ == "__main__":
    main()
