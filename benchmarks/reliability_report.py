"""Write the figures of docs/reliability.md from the results files (never typed by hand).

Reads benchmarks/results/queue_chaos.json and benchmarks/results/soak.json and replaces the text
between the ``figures`` markers of docs/reliability.md. ``--check`` only says whether the document
is current (a test runs it).

Run: ``.venv/bin/python benchmarks/reliability_report.py`` after queue_chaos.py or soak.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOCUMENT = ROOT / "docs" / "reliability.md"
BEGIN = "<!-- figures:begin (benchmarks/reliability_report.py writes this part) -->"
END = "<!-- figures:end -->"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RESULTS / name).read_text(encoding="utf-8"))
    return data


def figures() -> str:
    """The Markdown of both runs' figures."""
    chaos, soak = _load("queue_chaos.json"), _load("soak.json")
    settings = chaos["settings"]
    rows = [
        ("names", f"{chaos['names']:,}"),
        ("messages (of which poison)", f"{chaos['messages']} ({chaos['poison_messages']})"),
        ("poller kills (SIGKILL, random moments)", str(chaos["kills"])),
        (
            "S3 writes failed / attempted",
            f"{chaos['s3_failed_writes']} / {chaos['s3_writes']} "
            f"({chaos['s3_failed_write_percent']} %)",
        ),
        ("batches complete / in the DLQ", f"{chaos['completed_batches']} / {chaos['dlq_batches']}"),
        ("DLQ entries without a reason", str(chaos["dlq_without_reason"])),
        ("result lines", f"{chaos['result_lines']:,}"),
        ("lost batches / lost lines", f"{chaos['lost_batches']} / {chaos['lost_lines']}"),
        ("duplicated lines", str(chaos["duplicated_lines"])),
        ("batches out of input order", str(chaos["out_of_order_batches"])),
        ("batches with two outcomes", str(chaos["double_outcomes"])),
        ("wall time", f"{chaos['seconds']} s"),
        ("verdict", "pass" if chaos["ok"] else f"FAIL: {chaos['problems']}"),
    ]
    lines = [
        "### Queue chaos (`benchmarks/results/queue_chaos.json`)",
        "",
        f"{settings['message_names']:,} names a message, {settings['batch_size']} messages an "
        f"invocation, visibility timeout {settings['visibility_timeout']} s, maxReceiveCount "
        f"{settings['max_receive_count']}, {settings['failure_rate'] * 100:g} % of S3 writes "
        f"set to fail, a kill every {settings['kill_gap_seconds'][0]:g}-"
        f"{settings['kill_gap_seconds'][1]:g} s after each start (at most "
        f"{settings.get('max_kills', chaos['kills'])}), seed {settings['seed']}.",
        "",
        "| figure | value |",
        "| --- | --- |",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
        "### Soak (`benchmarks/results/soak.json`)",
        "",
    ]
    kinds = ", ".join(
        f"{kind} {count:,}" for kind, count in sorted(soak["requests_by_kind"].items())
    )
    statuses = ", ".join(f"{status}: {count:,}" for status, count in soak["statuses"].items())
    soak_rows = [
        ("duration (after warm-up)", f"{soak['seconds']:g} s"),
        ("requests", f"{soak['requests']:,} ({kinds})"),
        ("statuses", statuses),
        ("5xx answers", str(soak["server_errors"])),
        ("answers not the expected kind / transport errors",
         f"{soak['unexpected_answers']} / {soak['transport_errors']}"),
        (
            "RSS start → end (max)",
            f"{soak['rss_start_mib']} → {soak['rss_end_mib']} MiB ({soak['rss_max_mib']} MiB): "
            f"{soak['rss_growth_percent']:+} %",
        ),
        ("open file descriptors start → end (max)",
         f"{soak['fds_start']} → {soak['fds_end']} ({soak['fds_max']})"),
        ("verdict", "pass" if soak["ok"] else f"FAIL: {soak['problems']}"),
    ]  # fmt: skip
    lines += ["| figure | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in soak_rows]
    return "\n".join(lines)


def render(document: str) -> str:
    """``document`` with its figures section replaced."""
    start, end = document.index(BEGIN) + len(BEGIN), document.index(END)
    return document[:start] + "\n" + figures() + "\n" + document[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the document is current")
    args = parser.parse_args(argv)
    current = DOCUMENT.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print(f"{DOCUMENT} is stale: run benchmarks/reliability_report.py", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(wanted, encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
