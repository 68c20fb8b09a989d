#!/usr/bin/env python3
"""Run Drain3 over the LogHub 2k samples; the reference side of the log-mining bench.

Called by `cargo bench -p oncall-core --bench log_mining` (oncall-core/benches/log_mining.rs),
which computes grouping accuracy for Drain3 and for our miner with the same code.
This script only mines and times: for each `<System>_2k.log_structured.csv` in the data
directory it feeds the `Content` column, line by line, to a fresh Drain3 `TemplateMiner`
and prints one JSON document on stdout:

    {"drain3_version": "0.9.11",
     "config": {...},
     "systems": [{"system": "HDFS", "lines": 2000,
                  "runs_seconds": [...], "seconds": <median>,
                  "clusters": [<cluster id of line 1>, ...]}]}

Configuration (the same for every system): similarity threshold 0.5, depth 4, masks for
IPs, hex numbers and numbers (the patterns of Drain3's own example `drain3.ini`).
Timing covers only the `add_log_message` calls (CSV reading excluded); each system is
mined `--runs` times from scratch and the median is reported.

Usage: scripts/drain3_bench.py <loghub-2k dir> [--runs N] [--systems HDFS,Apache]
Exit status 2 when drain3 is not installed (`pip install drain3`).
"""

import argparse
import csv
import json
import os
import statistics
import sys
import time

try:
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig
except ImportError as err:  # pragma: no cover - reported to the caller
    print(f"drain3 is not installed ({err}); run: pip install drain3", file=sys.stderr)
    sys.exit(2)

SYSTEMS = [
    "HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Thunderbird", "Windows",
    "Linux", "Android", "HealthApp", "Apache", "Proxifier", "OpenSSH", "OpenStack", "Mac",
]

# From Drain3's example drain3.ini: IPs, hex numbers, numbers.
MASKS = [
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
]
SIM_TH = 0.5
DEPTH = 4


def make_miner() -> TemplateMiner:
    config = TemplateMinerConfig()
    config.drain_sim_th = SIM_TH
    config.drain_depth = DEPTH
    config.masking_instructions = [MaskingInstruction(p, name) for p, name in MASKS]
    config.profiling_enabled = False
    return TemplateMiner(config=config)


def read_contents(path: str) -> list:
    with open(path, newline="", encoding="utf-8") as f:
        return [row["Content"] for row in csv.DictReader(f)]


def mine(lines: list):
    miner = make_miner()
    clusters = []
    start = time.perf_counter()
    for line in lines:
        clusters.append(miner.add_log_message(line)["cluster_id"])
    return time.perf_counter() - start, clusters


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    args = parser.parse_args()

    try:
        from importlib.metadata import version
        drain3_version = version("drain3")
    except Exception:  # noqa: BLE001 - the version is informative only
        drain3_version = "unknown"

    out = []
    for system in [s for s in args.systems.split(",") if s]:
        path = os.path.join(args.data_dir, f"{system}_2k.log_structured.csv")
        if not os.path.exists(path):
            print(f"missing {path}", file=sys.stderr)
            continue
        lines = read_contents(path)
        runs = []
        clusters = []
        for _ in range(max(1, args.runs)):
            seconds, clusters = mine(lines)
            runs.append(seconds)
        out.append({
            "system": system,
            "lines": len(lines),
            "runs_seconds": runs,
            "seconds": statistics.median(runs),
            "clusters": clusters,
        })

    json.dump({
        "drain3_version": drain3_version,
        "config": {"sim_th": SIM_TH, "depth": DEPTH, "masks": [m[1] for m in MASKS]},
        "systems": out,
    }, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
