#!/usr/bin/env python3
"""Alert latency: from a check's finding to the (fake) Telegram server receiving the message.

A real Dispatcher, outbox, channel worker and TelegramChannel against the fake Bot API on
127.0.0.1. Samples are spaced 1.1 s apart so the 1 message/s per chat pacing does not count.

    .venv/bin/python bench/alert_latency.py [--samples 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.alerts.dispatcher import Dispatcher  # noqa: E402
from engine.channels.telegram.channel import TelegramChannel  # noqa: E402
from engine.compose import parse_config  # noqa: E402
from engine.delivery.service import DeliveryService, outbox_hook  # noqa: E402
from engine.findings import Finding  # noqa: E402
from engine.timeutil import utcnow  # noqa: E402
from engine.units import (
    CHANNELS,
    UNITS,
    open_db,  # noqa: E402
)
from tests.fakes.telegram_api import FakeTelegramServer  # noqa: E402

TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=40)
    args = ap.parse_args()
    fake = FakeTelegramServer(token=TOKEN).start()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        config = parse_config({"toast": {"enabled": False},
                               "telegram": {"token": TOKEN, "chat_id": "42", "api_url": fake.base_url}}, UNITS, env={})
        channel = TelegramChannel(TOKEN, 42, base_url=fake.base_url)
        service = DeliveryService(db, config, CHANNELS, channels={"telegram": channel})
        dispatcher = Dispatcher(db, on_queue=[outbox_hook(config, utcnow, CHANNELS)], on_queued=[service.wake_all])
        service.start()
        channel.get_me()  # connection warm, as in a running instance
        latencies = []
        for i in range(args.samples):
            before = len(fake.requests_for("sendMessage"))
            t0 = time.monotonic()
            dispatcher.dispatch(f"bench_{i}", [Finding("s", "warning", f"problem {i}")], timedelta(hours=1), utcnow())
            fake.wait_for(lambda b=before: len(fake.requests_for("sendMessage")) > b, timeout=10)
            arrival = fake.requests_for("sendMessage")[before].t
            latencies.append((arrival - t0) * 1000)
            time.sleep(1.1)
        service.close()
        db.close()
    fake.close()
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"finding -> fake Telegram server received, {len(latencies)} samples: p50 {p50:.1f} ms, "
          f"p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms; target p50 < 100 ms -> ratio {p50 / 100:.2f}")


if __name__ == "__main__":
    main()
