"""`GET /metrics`: the daemon's gauges in Prometheus text, read from its state at each scrape.

Each app has its own registry (never the process-wide default), so two apps in one process,
as in the tests, do not share or clash. Prometheus samples are floats: the exact figures are in
`GET /api/risk`; these are for graphs and alerts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from riskguard.api.risk_payload import open_pairs, rule_named
from riskguard.core.rules.drawdown_kill_switch import DrawdownKillSwitch, KillSwitchState
from riskguard.daemon.health import BreakerState
from riskguard.daemon.service import Daemon

__all__ = ["DaemonCollector", "metrics_registry"]


class DaemonCollector:
    """Builds every gauge from the daemon when the registry is scraped."""

    def __init__(
        self, daemon: Daemon, wall_clock: Callable[[], datetime], monotonic: Callable[[], float], *, paper: bool
    ) -> None:
        self._daemon = daemon
        self._paper = paper
        self._wall = wall_clock
        self._mono = monotonic

    def describe(self) -> Iterable[Metric]:
        return ()  # the names are not known before a scrape (they depend on the rules configured)

    def collect(self) -> Iterable[Metric]:
        daemon = self._daemon
        engine = daemon.guard.engine
        now = self._wall()

        breakers = GaugeMetricFamily(
            "riskguard_circuit_breaker_state",
            "Exchange-health circuit breaker state: 1 for the state it is in, 0 for the others.",
            labels=["breaker", "state"],
        )
        for breaker in daemon.health.states(self._mono()):
            for state in BreakerState:
                breakers.add_metric(
                    [str(breaker["name"]), state.value], 1.0 if breaker["state"] == state.value else 0.0
                )
        yield breakers

        yield GaugeMetricFamily(
            "riskguard_lockouts_active",
            "Lockouts in force now.",
            value=sum(1 for lock in engine.lockouts.all() if lock.active(now)),
        )

        pairs = len(open_pairs(engine.view()))
        paper = self._paper
        positions = GaugeMetricFamily(
            "riskguard_open_positions", "Open positions (net per account and symbol).", labels=["kind"]
        )
        positions.add_metric(["live"], 0.0 if paper else float(pairs))
        positions.add_metric(["paper"], float(pairs) if paper else 0.0)
        yield positions

        kill = rule_named(engine, DrawdownKillSwitch)
        switches = GaugeMetricFamily(
            "riskguard_kill_switch_active", "1 while the account's drawdown kill switch is tripped.", labels=["account"]
        )
        if kill is not None:
            kill_state: KillSwitchState = engine.states[kill.name]
            for account, switch in kill_state.accounts.items():
                switches.add_metric([account], 1.0 if switch.kill_switch_active else 0.0)
        yield switches

        yield GaugeMetricFamily(
            "riskguard_paused", "1 while the system is paused.", value=float(engine.paused is not None)
        )
        yield GaugeMetricFamily("riskguard_halts_active", "Halts in force now.", value=float(len(engine.halts)))
        yield GaugeMetricFamily(
            "riskguard_venue_connected", "1 while the venue is connected.", value=float(daemon.connected)
        )
        yield GaugeMetricFamily(
            "riskguard_ready", "1 once the start-up reconciliation has finished.", value=float(daemon.ready)
        )

        pnl = GaugeMetricFamily(
            "riskguard_realized_pnl", "Realized PnL net of fees, per currency.", labels=["currency"]
        )
        for currency, totals in engine.ledger.totals().items():
            pnl.add_metric([currency], float(totals.realized_pnl))
        yield pnl

        latency = GaugeMetricFamily(
            "riskguard_enforcement_latency_seconds",
            "Event received to first venue command sent, over this run's enforcements.",
            labels=["quantile"],
        )
        for share in (0.5, 0.99):
            value = daemon.executor.latency.percentile(share)
            if value is not None:
                latency.add_metric([str(share)], value)
        yield latency
        yield GaugeMetricFamily(
            "riskguard_enforcement_latency_samples",
            "Enforcements timed this run.",
            value=float(len(daemon.executor.latency.samples)),
        )


def metrics_registry(
    daemon: Daemon, wall_clock: Callable[[], datetime], monotonic: Callable[[], float], *, paper: bool
) -> CollectorRegistry:
    """A registry of its own holding the daemon's collector; `paper`: its positions count as paper."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DaemonCollector(daemon, wall_clock, monotonic, paper=paper))
    return registry
