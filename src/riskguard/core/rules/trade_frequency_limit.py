"""TradeFrequencyLimit (seed 001, timer lockout): caps on trades per minute, hour and session.

A trade is an order that filled. With `count: entries` (the default) only fills that open,
add to or flip a position count, so exits never use up the allowance; with `count: fills`
every fill counts, entries and exits alike. Partial fills of one order count once, at the
first of them (an order is recognised by its id while it is within the longest window).

Windows: "per minute" at `now` holds the trades with now - 60 s < ts <= now, "per hour" the
same over 3600 s, "per session" those since the last `session_reset_time` in `timezone`
(17:00 America/New_York by default, as CME trades; a trade at the reset belongs to the new
session). Each cap is the most allowed: holding exactly the cap is fine. The gate refuses an
order (`trade_frequency`) while a window already holds its cap, since one more trade would
exceed it. A fill that takes a window over its cap locks the account out (by default
`block_entries`: alert and refuse new risk; exits stay allowed): for `cooldown_seconds` after a
per-minute or per-hour breach, until the next session reset after a per-session one. Later
fills do not fire again while the lockout lasts, unless a per-session breach lengthens it. An
operator reset of this rule (or of every rule) for an account forgets its counted trades too.

The state keeps per account the trades of the longest per-minute/per-hour window, a count of the
current session's trades (with the session's start), and the ids of the counted orders in a
structure that adds and finds one in O(log n): a fill costs O(trades in the hour) at most, however
long the session.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from operator import itemgetter

from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.enums import PositionChange
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked, ResetRequested
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.schedule import ResetSchedule, parse_time_of_day, require_timezone
from riskguard.core.scope import Scope

__all__ = [
    "AccountTrades",
    "CountedOrders",
    "TradeCount",
    "TradeFrequencyLimit",
    "TradeFrequencyLimitParams",
    "TradeFrequencyState",
]

ENTRIES = (PositionChange.OPENED, PositionChange.INCREASED, PositionChange.FLIPPED)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
_time = itemgetter(0)  # the time of a (time, order id) trade


class TradeCount(StrEnum):
    ENTRIES = "entries"  # fills that open, increase or flip a position
    FILLS = "fills"  # every fill, entries and exits


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeFrequencyLimitParams(RuleParams):
    per_minute: int | None = None  # most trades in any 60 s window (None: no cap)
    per_hour: int | None = None  # most trades in any 3600 s window (None: no cap)
    per_session: int | None = None  # most trades between two session resets (None: no cap)
    count: TradeCount = TradeCount.ENTRIES  # which fills are trades: entries only, or every fill
    session_reset_time: str = "17:00"  # when a session ends and the next begins, local time
    timezone: str = "America/New_York"  # IANA name of session_reset_time
    cooldown_seconds: int = 60  # lockout after a per-minute or per-hour breach, in seconds
    on_breach: Enforcement = Enforcement.BLOCK_ENTRIES  # what a breach does


@dataclass(frozen=True, slots=True)
class CountedOrders:
    """The ids of the counted orders, each with the time of its counted trade, to recognise a later
    part of one. Kept in levels of roughly doubling size, oldest first, each `(latest time, {order
    id: time})` and never changed once built: adding an id merges the newest levels (each id is
    copied O(log n) times over its life), finding one looks in O(log n) levels, newest first, and a
    level whose latest time has left every window is dropped whole."""

    levels: tuple[tuple[datetime, dict[str, datetime]], ...] = ()

    def counted_since(self, order_id: str, since: datetime) -> bool:
        """Was `order_id` counted with a trade at or after `since`? Its latest entry decides: an
        order is counted again only once its earlier trade has left every window for good."""
        for _, ids in reversed(self.levels):
            ts = ids.get(order_id)
            if ts is not None:
                return ts >= since
        return False

    def add(self, order_id: str, ts: datetime, since: datetime) -> CountedOrders:
        """With `order_id` counted at `ts`; levels holding nothing at or after `since` are dropped."""
        levels = [level for level in self.levels if level[0] >= since]
        latest, ids = ts, {order_id: ts}
        while levels and len(levels[-1][1]) <= len(ids):
            older_latest, older = levels.pop()
            latest, ids = max(latest, older_latest), {**older, **ids}
        levels.append((latest, ids))
        return CountedOrders(tuple(levels))


@dataclass(frozen=True, slots=True)
class AccountTrades:
    """One account's trades in the longest per-minute/per-hour window, oldest first, as (time, order
    id); its lockout, if any; its trades in the session that began at `session_start` (None: no
    per-session cap); and the counted orders, recognised while in the longest window."""

    trades: tuple[tuple[datetime, str], ...] = ()
    locked_until: datetime | None = None
    session_lock: bool = False  # the lockout runs to a session reset
    session_start: datetime | None = None  # the session `session_trades` counts in
    session_trades: int = 0  # trades at or after session_start
    orders: CountedOrders = field(default_factory=CountedOrders)


@dataclass(frozen=True, slots=True)
class TradeFrequencyState:
    accounts: dict[str, AccountTrades] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Cap:
    label: str  # "per minute"
    limit: int
    since: datetime  # trades after (sliding) or at (session) this instant are in the window
    sliding: bool
    reopens: datetime  # when a window at its cap has room again (sliding) or resets (session)
    count: int


class TradeFrequencyLimit(Rule[TradeFrequencyLimitParams, TradeFrequencyState]):
    name = "trade_frequency_limit"
    gate = True
    reactive = True

    def __init__(self, params: TradeFrequencyLimitParams) -> None:
        super().__init__(params)
        caps = {"per_minute": params.per_minute, "per_hour": params.per_hour, "per_session": params.per_session}
        for name, value in caps.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InvalidInput(name, value, "must be a whole number of trades, at least 1 (or null for no cap)")
        if all(value is None for value in caps.values()):
            raise InvalidInput("per_minute", None, "set at least one of per_minute, per_hour, per_session")
        seconds = params.cooldown_seconds
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
            raise InvalidInput("cooldown_seconds", seconds, "must be a whole number of seconds, at least 1")
        self.cooldown = timedelta(seconds=seconds)
        self.schedule = ResetSchedule(
            parse_time_of_day("session_reset_time", params.session_reset_time),
            require_timezone("timezone", params.timezone),
        )
        self.sliding = tuple(
            (label, limit, width)
            for label, limit, width in (("per minute", params.per_minute, MINUTE), ("per hour", params.per_hour, HOUR))
            if limit is not None
        )
        # trades before now - this are in no per-minute/per-hour window (with neither cap: none are kept)
        self.longest = self.sliding[-1][2] if self.sliding else timedelta(0)

    def initial_state(self) -> TradeFrequencyState:
        return TradeFrequencyState()

    def _over(self, account: AccountTrades, now: datetime, session: datetime | None, more: int) -> list[_Cap]:
        """The caps in force whose window at `now` holds more than the limit with `more` trades
        added (1: the gate's "one more would exceed it"; 0: already over), each with its count,
        shortest window first; `session` is the start of the session at `now` (None: no
        per-session cap)."""
        caps = []
        trades = account.trades
        for label, limit, width in self.sliding:
            first, last = _span(trades, now, width)
            count = last - first
            if count + more > limit:
                # room comes back when the oldest trade that must leave leaves: at its ts + width
                reopens = trades[last - limit][0] + width
                caps.append(_Cap(label, limit, now - width, True, reopens, count))
        if self.params.per_session is not None and session is not None:
            limit = self.params.per_session
            count = _session_count(account, session)
            if count + more > limit:
                caps.append(_Cap("per session", limit, session, False, self.schedule.next_reset(now), count))
        return caps

    def check(self, order: OrderRequest, view: AccountView, state: TradeFrequencyState) -> Verdict:
        account = state.accounts.get(order.account, _NO_TRADES)
        full = self._over(account, view.now, self._session(view.now), 1)
        if not full:
            return ALLOW
        cap = max(full, key=lambda c: c.reopens)  # the one that holds the account back longest
        return Deny(
            self.name,
            "trade_frequency",
            f"{order.account} has made {cap.count} trades {self._window(cap)}, the limit is {cap.limit} {cap.label}; "
            f"one more would exceed it, so new entries are refused until {self._local(cap.reopens)}",
        )

    def react(
        self, event: Event, view: AccountView, state: TradeFrequencyState
    ) -> tuple[TradeFrequencyState, Sequence[Action]]:
        if isinstance(event, ResetRequested) and event.rule in (None, self.name):
            return _reset(state, event.scope), ()
        if not isinstance(event, FillBooked):
            return state, ()
        if self.params.count is TradeCount.ENTRIES and event.applied.change not in ENTRIES:
            return state, ()
        fill, now = event.fill, view.now
        current = state.accounts.get(fill.account, _NO_TRADES)
        period = self._session(now)
        kept = current.trades[bisect_left(current.trades, now - self.longest, key=_time) :]
        in_session = _session_count(current, period)
        oldest = self._oldest_needed(now, period)
        if current.orders.counted_since(fill.order_id, oldest):  # a later part of a counted order
            pruned = replace(current, trades=kept, session_start=period, session_trades=in_session)
            return _with(state, fill.account, pruned), ()
        trade = (fill.ts, fill.order_id)
        at = bisect_right(kept, trade)
        updated = replace(
            current,
            trades=(*kept, trade) if at == len(kept) else (*kept[:at], trade, *kept[at:]),
            session_start=period,
            session_trades=in_session + 1 if period is not None and fill.ts >= period else in_session,
            orders=current.orders.add(fill.order_id, fill.ts, oldest),
        )
        over = self._over(updated, now, period, 0)
        if not over:
            return _with(state, fill.account, updated), ()
        cap = max(over, key=lambda c: self._until(c, now))  # the breach that locks longest
        until, session = self._until(cap, now), not cap.sliding
        locked = current.locked_until is not None and now < current.locked_until
        if locked and (current.session_lock or not session):
            return _with(state, fill.account, updated), ()  # the same breach, or one no longer than it
        reason = (
            f"{fill.account} made {cap.count} trades {self._window(cap)}, over the limit of {cap.limit} {cap.label}; "
            f"{_outcome(self.params.on_breach, self._local(until))}"
        )
        actions = breach_actions(self.name, self.params.on_breach, view, fill.account, reason, until)
        return _with(state, fill.account, replace(updated, locked_until=until, session_lock=session)), actions

    def headroom(self, view: AccountView, state: TradeFrequencyState) -> Sequence[Headroom]:
        """The trades in each window with a cap, per account: the last minute, the last hour, this session."""
        now, session = view.now, self._session(view.now)
        rows = []
        for account in view.account_ids():
            trades = state.accounts.get(account, _NO_TRADES)
            scope = Scope(account=account)
            for label, limit, width in self.sliding:
                first, last = _span(trades.trades, now, width)
                window = f"trades in the last {label.removeprefix('per ')}"
                rows.append(Headroom(self.name, window, scope, Decimal(last - first), Decimal(limit), "trades"))
            if self.params.per_session is not None and session is not None:
                count, limit = _session_count(trades, session), self.params.per_session
                rows.append(Headroom(self.name, "trades this session", scope, Decimal(count), Decimal(limit), "trades"))
        return rows

    def _until(self, cap: _Cap, now: datetime) -> datetime:
        """How long a breach of `cap` locks: the cooldown, or the session's end."""
        return now + self.cooldown if cap.sliding else cap.reopens

    def _session(self, now: datetime) -> datetime | None:
        """The start of the session at `now`, when there is a per-session cap."""
        return None if self.params.per_session is None else self.schedule.period_start(now)

    def _oldest_needed(self, now: datetime, session: datetime | None) -> datetime:
        """Trades before this instant are in no window any more: their orders are not recognised."""
        oldest = now - self.longest
        return oldest if session is None else min(oldest, session)

    def _window(self, cap: _Cap) -> str:
        if cap.sliding:
            return "in the last minute" if cap.label == "per minute" else "in the last hour"
        return f"since the session began at {self._local(cap.since)}"

    def _local(self, ts: datetime) -> str:
        return f"{ts.astimezone(self.schedule.timezone).strftime('%Y-%m-%d %H:%M:%S')} {self.schedule.timezone.key}"


def _span(trades: tuple[tuple[datetime, str], ...], now: datetime, width: timedelta) -> tuple[int, int]:
    """The trades (in time order) in the window (now - width, now] are trades[first:last]."""
    first = bisect_right(trades, now - width, key=_time)
    return first, bisect_right(trades, now, first, key=_time)


def _session_count(account: AccountTrades, session: datetime | None) -> int:
    """The account's trades in the session that began at `session` (0 in a session not yet counted)."""
    return account.session_trades if account.session_start == session else 0


def _outcome(enforcement: Enforcement, until: str) -> str:
    """What the breach does, for the end of its sentence."""
    return {
        Enforcement.ALERT: "no action is taken beyond this alert",
        Enforcement.BLOCK_ENTRIES: f"new entries are refused until {until}",
        Enforcement.CANCEL_ORDERS: f"orders are cancelled and new entries refused until {until}",
        Enforcement.FLATTEN: "positions are closed and orders cancelled",
        Enforcement.FLATTEN_AND_LOCK: f"positions are closed, orders cancelled and new entries refused until {until}",
    }[enforcement]


def _reset(state: TradeFrequencyState, scope: Scope) -> TradeFrequencyState:
    """An operator reset forgets the counted trades and the lockout of the accounts it covers
    whole (a reset of one strategy or symbol does not clear an account's lockout either)."""
    if scope.strategy is not None or scope.symbol is not None:
        return state
    return TradeFrequencyState(
        {account: trades for account, trades in state.accounts.items() if scope.account not in (None, account)}
    )


_NO_TRADES = AccountTrades()


def _with(state: TradeFrequencyState, account: str, trades: AccountTrades) -> TradeFrequencyState:
    return TradeFrequencyState({**state.accounts, account: trades})
