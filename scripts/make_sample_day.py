#!/usr/bin/env python3
"""Regenerate src/riskguard/samples/sample_day.jsonl: a seeded, reproducible recorded trading day.

One futures account (A1: MNQ with two strategies) and one crypto account (H1: BTC-PERP), a
random-walk price on each tick grid, a mark every minute, an order and its fill every few
minutes, account snapshots every half hour, and one fill the venue sent twice. Run it only to
change the sample.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "riskguard" / "samples" / "sample_day.jsonl"
START = datetime(2026, 3, 6, 14, 30, tzinfo=UTC)  # 09:30 New York
MINUTES = 390


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def main() -> None:
    rng = random.Random(20260306)
    lines: list[dict[str, object]] = []
    prices = {"MNQ": Decimal("18000.00"), "BTC-PERP": Decimal("68250.0")}
    ticks = {"MNQ": Decimal("0.25"), "BTC-PERP": Decimal("0.1")}
    steps = {"MNQ": 6, "BTC-PERP": 150}
    books = {
        ("A1", "orb", "MNQ"): Decimal(0),
        ("A1", "meanrev", "MNQ"): Decimal(0),
        ("H1", "trend", "BTC-PERP"): Decimal(0),
    }
    sizes = {"MNQ": ["1", "2", "3"], "BTC-PERP": ["0.01", "0.02", "0.05"]}
    fees = {"MNQ": Decimal("0.37"), "BTC-PERP": Decimal("0.00035")}
    equity = {"A1": Decimal("50000"), "H1": Decimal("25000")}
    fill_no = 0
    for minute in range(MINUTES):
        ts = START + timedelta(minutes=minute)
        for symbol in prices:
            prices[symbol] += ticks[symbol] * rng.randint(-steps[symbol], steps[symbol])
            lines.append({"type": "mark", "ts": iso(ts), "symbol": symbol, "price": str(prices[symbol])})
        if minute % 30 == 0:
            for account, value in equity.items():
                lines.append(
                    {
                        "type": "account",
                        "ts": iso(ts),
                        "account": account,
                        "balance": str(value),
                        "equity": str(value),
                        "can_trade": True,
                        "currency": "USD" if account == "A1" else "USDC",
                    }
                )
        for (account, strategy, symbol), held in books.items():
            if rng.random() > 0.08:
                continue
            unit = Decimal(sizes[symbol][0])
            if held == 0:
                qty, side = Decimal(rng.choice(sizes[symbol])), rng.choice(["buy", "sell"])
            else:
                action = rng.random()
                closing = "sell" if held > 0 else "buy"
                if action < 0.5:
                    qty, side = abs(held), closing  # close it
                elif action < 0.7 and abs(held) < 3 * unit:
                    qty, side = unit, ("buy" if held > 0 else "sell")  # add
                elif action < 0.85 and abs(held) > unit:
                    qty, side = unit, closing  # take partial profit or loss
                else:
                    qty, side = abs(held) + unit, closing  # reverse through zero
            fill_no += 1
            if symbol == "MNQ":
                fee = fees[symbol] * qty
            else:
                fee = (fees[symbol] * qty * prices[symbol]).quantize(Decimal("0.000001"))
            fill = {
                "type": "fill",
                "id": f"{account}-{fill_no:05d}",
                "order_id": f"o{fill_no:05d}",
                "ts": iso(ts + timedelta(seconds=rng.randint(1, 59))),
                "account": account,
                "strategy": strategy,
                "symbol": symbol,
                "side": side,
                "qty": str(qty),
                "price": str(prices[symbol]),
                "fee": str(fee),
            }
            # The order the bot sent a second before its fill: the replay shows what the gate would say.
            order = {
                "type": "order",
                "id": fill["order_id"],
                "ts": iso(ts),
                "account": account,
                "strategy": strategy,
                "symbol": symbol,
                "side": side,
                "order_type": "limit",
                "qty": str(qty),
                "price": str(prices[symbol]),
            }
            lines.append(order)
            lines.append(fill)
            if fill_no == 7:
                lines.append(dict(fill))  # the venue re-sent this fill after a reconnect
            books[(account, strategy, symbol)] = held + (qty if side == "buy" else -qty)
    OUT.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines), encoding="utf-8")
    print(f"wrote {len(lines)} lines to {OUT}")


if __name__ == "__main__":
    main()
