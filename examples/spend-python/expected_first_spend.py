#!/usr/bin/env python3
"""The rows first_spend must hold, for faultline's `mode = "command"` expectation.

Reads the records the run sent (FAULTLINE_EXPECT_INPUT: one JSON object per line with `partition`,
`offset`, `key`, `value`, `sent_at_ms`) and prints one row per account: its earliest event by
event time, ties going to the smaller event_id. "The id of the minimum" is no aggregate, so this
logic lives here rather than in a declaration. Only the standard library: no venv needed.
"""

import json
import os
import sys


def main() -> int:
    first: dict[str, tuple[int, str]] = {}
    with open(os.environ["FAULTLINE_EXPECT_INPUT"], encoding="utf-8") as f:
        for line in f:
            value = json.loads(line)["value"]
            if not isinstance(value, dict):
                continue
            mark = (value["event_ms"], value["event_id"])
            account = value["account"]
            first[account] = min(first.get(account, mark), mark)
    for account, (event_ms, event_id) in sorted(first.items()):
        print(json.dumps({"account": account, "event_id": event_id, "event_ms": event_ms}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
