"""The batch Lambda's size and cost per million names, from names/s measured in the same run.

Lambda gives CPU in proportion to memory: 1,769 MB is one vCPU, 3,538 MB two. The classifier keeps
one vCPU busy per bucket thread (``NAMEORIGIN_BATCH_THREADS``), so each option is "threads t at
t x 1,769 MB", at the names/s measured with t threads here.

    cost per 1M names = 1e6 / names_per_s x memory_GB x price_per_GB_s
                        + 1e6 / names_per_invocation x price_per_request

Prices: AWS Lambda, us-east-1, first pricing tier, as published on 2026-11-30 (per GB-second:
x86_64 $0.0000166667, arm64 $0.0000133334; $0.20 per million requests). arm64 is priced at the
names/s measured on this x86_64 machine: a Graviton measurement may differ, and decides it.
"""

from __future__ import annotations

from typing import Any

MB_PER_VCPU = 1769
PRICE_PER_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
PRICE_PER_REQUEST = 0.20 / 1_000_000
#: One SQS message carries up to 10,000 names inline; BatchSize 1 → one invocation per message.
NAMES_PER_INVOCATION = 10_000


def lambda_costs(names_per_s: dict[str, float]) -> dict[str, Any]:
    """Cost per million names for each measured thread count and architecture, and the cheapest."""
    options: list[dict[str, Any]] = []
    for key, rate in sorted(names_per_s.items()):
        threads = int(key.removeprefix("threads_"))
        memory_mb = threads * MB_PER_VCPU
        seconds = 1_000_000 / rate
        requests = 1_000_000 / NAMES_PER_INVOCATION * PRICE_PER_REQUEST
        options.append(
            {
                "threads": threads,
                "memory_mb": memory_mb,
                "names_per_s": round(rate),
                "seconds_per_million": round(seconds, 1),
                "usd_per_million": {
                    arch: round(seconds * memory_mb / 1024 * price + requests, 5)
                    for arch, price in PRICE_PER_GB_SECOND.items()
                },
            }
        )
    cheapest = min(options, key=lambda option: option["usd_per_million"]["x86_64"])
    return {
        "prices": {
            "usd_per_gb_second": PRICE_PER_GB_SECOND,
            "usd_per_request": PRICE_PER_REQUEST,
            "region": "us-east-1",
            "as_of": "2026-11-30",
        },
        "formula": "1e6/names_per_s * memory_MB/1024 * usd_per_GB_s + 1e6/names_per_invocation"
        " * usd_per_request",
        "names_per_invocation": NAMES_PER_INVOCATION,
        "options": options,
        "chosen": {"threads": cheapest["threads"], "memory_mb": cheapest["memory_mb"]},
    }
